// Grades typed but not saved: a warning before the page is left. Each grade box carries
// the saved grade in data-saved; a box whose value differs holds unsaved input. Sending
// the form (saving) is not leaving it, and a row saved by htmx comes back with its new
// saved grade.
(function () {
  "use strict";

  var sending = false;

  function unsaved() {
    var boxes = document.querySelectorAll("form[data-unsaved-warning] input[data-saved]");
    return Array.prototype.some.call(boxes, function (box) {
      return box.value.trim() !== box.dataset.saved;
    });
  }

  document.addEventListener("submit", function (event) {
    if (event.target.matches("form[data-unsaved-warning]")) {
      sending = true;
    }
  });

  window.addEventListener("beforeunload", function (event) {
    if (!sending && unsaved()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // Back from the bfcache after leaving anyway: the form can be sent again.
  window.addEventListener("pageshow", function () {
    sending = false;
  });
})();
