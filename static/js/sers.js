// What every page does (base.html), each also for content that htmx swaps in:
//
// - The error summary (templates/components/error_summary.html) takes the focus when it
//   appears, so a screen reader reads it first; its links move to the field, with the
//   field's label or legend scrolled into view (GOV.UK's error summary).
// - Conditional reveal (GOV.UK's radios): a field whose control has
//   data-reveal-when="status=paid" (several values: "status=paid waived") shows only
//   while that choice is made; each choice names what it reveals in aria-controls (no
//   aria-expanded: a radio may not have it). Without JavaScript every field shows.
// - Table cards on a phone: each cell of a data table gets its column's name in
//   data-label, and the table the class sers-stack (static/css/sers.css), unless the
//   table has data-stack="off" or its cells are labelled already.
(function () {
  "use strict";

  // --- error summary ---------------------------------------------------------------------

  function focusSummary(root) {
    var summary = root.querySelector ? root.querySelector("[data-error-summary]") : null;
    if (!summary && root.matches && root.matches("[data-error-summary]")) {
      summary = root;
    }
    if (!summary || summary.dataset.focused) {
      return;
    }
    summary.dataset.focused = "1";
    // Focusable from the script only, and only until it loses the focus (GOV.UK).
    summary.setAttribute("tabindex", "-1");
    summary.addEventListener("blur", function () {
      summary.removeAttribute("tabindex");
    });
    summary.focus();
  }

  function labelFor(input) {
    var fieldset = input.closest("fieldset");
    if (fieldset && (input.type === "radio" || input.type === "checkbox")) {
      var legend = fieldset.querySelector("legend");
      if (legend) {
        return legend;
      }
    }
    if (input.id) {
      var label = document.querySelector('label[for="' + CSS.escape(input.id) + '"]');
      if (label) {
        return label;
      }
    }
    return input;
  }

  // The page's summary describes the form as the page loaded it: once htmx sends a form
  // again, the answer replaces part of the page, and the summary (and "Error:" in the
  // title) would describe a state that is gone. A control marked data-error-summary-keep
  // only checks what is typed (a grade being corrected): the summary stays, to lead to the
  // next error.
  document.addEventListener("htmx:afterRequest", function (event) {
    var source = event.detail && event.detail.elt;
    if (!source || !source.closest || !source.closest("form")) {
      return;
    }
    if (source.closest("[data-error-summary-keep]")) {
      return;
    }
    document.querySelectorAll('[data-error-summary="page"]').forEach(function (summary) {
      summary.remove();
    });
    var title = document.querySelector("title[data-error-prefix]");
    if (title && document.title.indexOf(title.dataset.errorPrefix) === 0) {
      document.title = document.title.slice(title.dataset.errorPrefix.length);
      title.removeAttribute("data-error-prefix");
    }
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) {
      return;
    }
    var input = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!input) {
      return;
    }
    event.preventDefault();
    labelFor(input).scrollIntoView();
    input.focus({ preventScroll: true });
  });

  // --- conditional reveal ----------------------------------------------------------------

  function chosen(form, name) {
    var controls = form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
    for (var i = 0; i < controls.length; i++) {
      var control = controls[i];
      if (control.type === "radio" || control.type === "checkbox") {
        if (control.checked) {
          return control.value;
        }
      } else {
        return control.value;
      }
    }
    return "";
  }

  function setUpReveals(root) {
    var groups = {};
    root.querySelectorAll("[data-reveal-when]").forEach(function (field) {
      var form = field.form;
      var rule = field.dataset.revealWhen.split("=");
      if (!form || rule.length !== 2 || field.dataset.revealReady) {
        return;
      }
      field.dataset.revealReady = "1";
      var wrapper = document.getElementById("div_" + field.id) || field.parentElement;
      wrapper.classList.add("sers-conditional");
      var key = rule[0];
      var entry = { wrapper: wrapper, values: rule[1].split(" ") };
      groups[key] = groups[key] || { form: form, name: key, fields: [] };
      groups[key].fields.push(entry);
    });
    Object.keys(groups).forEach(function (key) {
      var group = groups[key];
      var controls = group.form.querySelectorAll('[name="' + CSS.escape(group.name) + '"]');
      function update() {
        var value = chosen(group.form, group.name);
        group.fields.forEach(function (entry) {
          entry.wrapper.hidden = entry.values.indexOf(value) === -1;
        });
      }
      controls.forEach(function (control) {
        var ids = group.fields
          .filter(function (entry) {
            return entry.values.indexOf(control.value) !== -1 && entry.wrapper.id;
          })
          .map(function (entry) {
            return entry.wrapper.id;
          });
        if (ids.length) {
          control.setAttribute("aria-controls", ids.join(" "));
        }
        control.addEventListener("change", update);
      });
      update();
    });
  }

  // --- tables as cards on a phone -------------------------------------------------------

  function labelTables(root) {
    root.querySelectorAll("table.table").forEach(function (table) {
      if (table.dataset.stack === "off" || table.closest(".sers-stack") || !table.tHead) {
        return;
      }
      var headerRow = table.tHead.rows[table.tHead.rows.length - 1];
      if (!headerRow) {
        return;
      }
      var names = [];
      Array.prototype.forEach.call(headerRow.cells, function (cell) {
        var name = cell.textContent.replace(/\s+/g, " ").trim();
        for (var span = 0; span < (cell.colSpan || 1); span++) {
          names.push(name);
        }
      });
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (row) {
          var column = 0;
          Array.prototype.forEach.call(row.cells, function (cell) {
            var name = names[column];
            var single = (cell.colSpan || 1) === 1; // a row-wide cell ("No results") has none
            var same = cell.textContent.replace(/\s+/g, " ").trim() === name; // "Edit: Edit"
            if (cell.tagName === "TD" && single && name && !same && !cell.hasAttribute("data-label")) {
              cell.setAttribute("data-label", name);
            }
            column += cell.colSpan || 1;
          });
        });
      });
      table.classList.add("sers-stack");
    });
  }

  function setUp(root) {
    labelTables(root);
    setUpReveals(root);
    focusSummary(root);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      setUp(document);
    });
  } else {
    setUp(document);
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    setUp(event.target);
  });
})();
