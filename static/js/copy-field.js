// A "Copy" button next to a read-only field: <button data-copy="field-id" hidden>. Shown
// only where the clipboard can be written; says "Copied." in the page's status line.
document.querySelectorAll("[data-copy]").forEach((button) => {
  const field = document.getElementById(button.dataset.copy);
  const status = document.querySelector("[data-copy-status]");
  if (!field) return;
  field.addEventListener("focus", () => field.select());
  if (!navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    field.select();
    await navigator.clipboard.writeText(field.value);
    if (status) status.textContent = status.dataset.copiedText;
  });
});
