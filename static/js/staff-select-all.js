// "Tick all" boxes: <input type="checkbox" data-select-all="NAME" hidden> ticks or unticks
// every checkbox named NAME in the same form. Hidden until this script shows it, so the
// page works the same without JavaScript (each box ticked by hand).
(function () {
  "use strict";

  function boxes(master) {
    var form = master.form || document;
    return form.querySelectorAll(
      'input[type="checkbox"][name="' + master.dataset.selectAll + '"]'
    );
  }

  function setUp(root) {
    root.querySelectorAll("input[data-select-all]").forEach(function (master) {
      if (master.dataset.ready) {
        return;
      }
      master.dataset.ready = "1";
      master.hidden = false;
      master.addEventListener("change", function () {
        boxes(master).forEach(function (box) {
          box.checked = master.checked;
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUp(document);
  });
  // Results swapped in by htmx (filters, paging) get their box too.
  document.addEventListener("htmx:afterSettle", function (event) {
    setUp(event.target);
  });
})();
