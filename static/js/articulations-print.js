// Print buttons: shown only when JavaScript runs (browsers' own Print works without it).
document.querySelectorAll("[data-print-page]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
