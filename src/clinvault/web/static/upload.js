/* Upload forms: checks in the browser before anything is sent, a progress bar while
   the files are sent, and rows added in place.
   The plain form works without this file: it posts normally, the server checks
   everything again and brings the form back with what was typed, and "Add another
   document" sends the form, which comes back with one more row and the files kept.
   The limits and the rules of each category come from the page itself (data-*
   attributes the server writes from its own settings). */
(function () {
  "use strict";

  var FIELDS = ["category", "issuing_authority", "document_number", "issued_on", "expires_on"];

  function rowNumber(row) {
    var file = row.querySelector("input[type='file']");
    return file ? file.id.replace(/^file_/, "") : "0";
  }

  function control(row, name) {
    return row.querySelector("[name='" + name + "_" + rowNumber(row) + "']");
  }

  function chosenRule(row) {
    var select = control(row, "category");
    return select && select.selectedIndex >= 0 ? select.options[select.selectedIndex] : null;
  }

  function errorBox(input) {
    return input ? input.form.querySelector("[data-error-for='" + input.id + "']") : null;
  }

  function describe(input, withError) {
    var ids = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (id) {
      return id && id !== input.id + "-error";
    });
    if (withError) {
      ids.push(input.id + "-error");
    }
    if (ids.length) {
      input.setAttribute("aria-describedby", ids.join(" "));
    } else {
      input.removeAttribute("aria-describedby");
    }
  }

  function setError(input, message) {
    var box = errorBox(input);
    if (!input || !box) {
      return;
    }
    var field = input.closest(".field");
    if (message) {
      box.textContent = message;
      box.hidden = false;
      input.setAttribute("aria-invalid", "true");
      if (field) {
        field.classList.add("field--invalid");
      }
    } else {
      box.textContent = "";
      box.hidden = true;
      input.removeAttribute("aria-invalid");
      if (field) {
        field.classList.remove("field--invalid");
      }
    }
    describe(input, Boolean(message));
  }

  function setRequired(input, required) {
    if (!input) {
      return;
    }
    input.required = required;
    if (required) {
      input.setAttribute("aria-required", "true");
    } else {
      input.removeAttribute("aria-required");
    }
    var label = input.form.querySelector("label[for='" + input.id + "'] [data-required-mark]");
    if (label) {
      label.hidden = !required;
    }
  }

  function keptFile(row) {
    var kept = row.querySelector("[data-kept-file]");
    if (!kept) {
      return false;
    }
    var remove = kept.querySelector("[data-remove-held]");
    return !(remove && remove.checked);
  }

  function applyCategory(form, row) {
    var rule = chosenRule(row);
    var file = control(row, "file");
    if (!rule || !file) {
      return;
    }
    file.setAttribute("accept", rule.getAttribute("data-accept") || "");
    var hint = row.querySelector("[data-file-hint]");
    if (hint) {
      hint.textContent = rule.getAttribute("data-kinds-text") + ", at most " +
        form.getAttribute("data-max-file-text") + ".";
    }
    setRequired(control(row, "document_number"), rule.getAttribute("data-needs-number") === "true");
    setRequired(control(row, "expires_on"), rule.getAttribute("data-requires-expiry") === "true");
    setRequired(file, !keptFile(row));
  }

  function fileProblem(form, row) {
    var file = control(row, "file");
    var rule = chosenRule(row);
    var chosen = file && file.files && file.files.length ? file.files[0] : null;
    if (!chosen) {
      return keptFile(row) ? "" : "Choose the file of this document.";
    }
    var limit = parseInt(form.getAttribute("data-max-file-bytes"), 10);
    if (limit && chosen.size > limit) {
      return chosen.name + " is larger than the " + form.getAttribute("data-max-file-text") +
        " limit (" + (chosen.size / 1048576).toFixed(1) + " MB): choose a smaller file " +
        "(a scan at a lower resolution, or fewer pages).";
    }
    var extensions = rule ? (rule.getAttribute("data-extensions") || "").split(" ") : [];
    var name = chosen.name.toLowerCase();
    if (extensions.length && extensions[0] && !extensions.some(function (ext) {
      return name.slice(-ext.length) === ext;
    })) {
      return "A " + rule.getAttribute("data-label").toLowerCase() + " must be a " +
        rule.getAttribute("data-kinds-text") + " file: choose one, or change the category.";
    }
    return "";
  }

  function parseDate(input) {
    var value = input ? input.value.trim() : "";
    return /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : null;
  }

  function dateProblems(form, row, problems) {
    var today = form.getAttribute("data-today");
    var issuedInput = control(row, "issued_on");
    var expiresInput = control(row, "expires_on");
    var issued = parseDate(issuedInput);
    var expires = parseDate(expiresInput);
    var rule = chosenRule(row);
    if (!issuedInput.value.trim()) {
      problems.issued_on = "Enter the issue date.";
    } else if (!issued) {
      problems.issued_on = "Enter the issue date as a date, for example 2024-03-31.";
    } else if (issued > today) {
      problems.issued_on = "Issue date is in the future: enter the date printed on the document.";
    }
    var confirm = row.querySelector("[data-confirm-expired]");
    var expired = Boolean(expires && expires < today);
    if (confirm) {
      confirm.hidden = !expired && !confirm.querySelector("input").checked;
    }
    if (!expiresInput.value.trim()) {
      if (rule && rule.getAttribute("data-requires-expiry") === "true") {
        problems.expires_on = "Enter the expiry date: a " +
          rule.getAttribute("data-label").toLowerCase() + " has one.";
      }
    } else if (!expires) {
      problems.expires_on = "Enter the expiry date as a date, for example 2027-03-31.";
    } else if (issued && expires <= issued) {
      problems.expires_on = "Expiry date is before the issue date: check both dates.";
    } else if (expired && !(confirm && confirm.querySelector("input").checked)) {
      problems.expires_on = "This document expired on " + expires + ": upload the current one, " +
        "or tick the box below to send the expired one anyway.";
    }
  }

  function rowProblems(form, row) {
    var problems = {};
    var file = fileProblem(form, row);
    if (file) {
      problems.file = file;
    }
    if (!control(row, "issuing_authority").value.trim()) {
      problems.issuing_authority = "Enter the issuing authority.";
    }
    var number = control(row, "document_number");
    if (number.required && !number.value.trim()) {
      problems.document_number = "Enter the document number.";
    }
    dateProblems(form, row, problems);
    return problems;
  }

  function isBlank(row) {
    var file = control(row, "file");
    var typed = FIELDS.some(function (name) {
      var input = control(row, name);
      return name !== "category" && input && input.value.trim();
    });
    return !typed && !(file && file.files && file.files.length) && !keptFile(row);
  }

  function showRow(row, problems) {
    ["file"].concat(FIELDS).forEach(function (name) {
      setError(control(row, name), problems[name] || "");
    });
    row.classList.toggle("upload-row--invalid", Object.keys(problems).length > 0);
  }

  function checkForm(form) {
    var rows = Array.prototype.slice.call(form.querySelectorAll("[data-upload-row]"));
    var count = 0;
    var first = null;
    var total = 0;
    var filled = 0;
    rows.forEach(function (row) {
      if (isBlank(row)) {
        showRow(row, {});
        return;
      }
      filled += 1;
      var problems = rowProblems(form, row);
      showRow(row, problems);
      var names = Object.keys(problems);
      count += names.length;
      if (names.length && !first) {
        var order = ["file"].concat(FIELDS).filter(function (name) { return problems[name]; });
        first = control(row, order[0]);
      }
      var file = control(row, "file");
      if (file && file.files && file.files.length) {
        total += file.files[0].size;
      }
    });
    var summary = form.querySelector("[data-form-problems]");
    var message = "";
    var limit = parseInt(form.getAttribute("data-max-total-bytes"), 10);
    if (!filled) {
      message = "Choose at least one file and describe it.";
      first = first || control(rows[0], "file");
    } else if (count) {
      message = "Nothing was sent: " + count + " problem" + (count === 1 ? "" : "s") +
        " to correct, each shown next to its field.";
    } else if (limit && total > limit) {
      message = "These files come to " + (total / 1048576).toFixed(1) + " MB, over the " +
        form.getAttribute("data-max-total-text") + " limit of one submission: send some of " +
        "them in a second submission.";
      first = first || control(rows[0], "file");
    }
    if (summary) {
      summary.textContent = message;
      summary.hidden = !message;
    }
    if (first) {
      first.focus();
    }
    return !message;
  }

  function watchRow(form, row) {
    var select = control(row, "category");
    if (select) {
      select.addEventListener("change", function () {
        applyCategory(form, row);
        var file = control(row, "file");
        if (file && file.files && file.files.length) {
          setError(file, fileProblem(form, row));
        }
      });
    }
    var file = control(row, "file");
    if (file) {
      file.addEventListener("change", function () {
        setError(file, file.files && file.files.length ? fileProblem(form, row) : "");
      });
    }
    ["issued_on", "expires_on"].forEach(function (name) {
      var input = control(row, name);
      if (input) {
        input.addEventListener("change", function () {
          var problems = {};
          dateProblems(form, row, problems);
          setError(input, problems[name] || "");
        });
      }
    });
    var remove = row.querySelector("[data-remove-held]");
    if (remove) {
      remove.addEventListener("change", function () {
        setRequired(control(row, "file"), !keptFile(row));
      });
    }
    applyCategory(form, row);
  }

  function renumber(row, index) {
    row.querySelectorAll("[id], [name], [for], [data-error-for]").forEach(function (el) {
      ["id", "name", "for", "data-error-for"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) {
          el.setAttribute(attr, value.replace(/_\d+(-error|-hint)?$/, "_" + index + "$1"));
        }
      });
      if (el.hasAttribute("aria-describedby")) {
        el.setAttribute("aria-describedby", "file_" + index + "-hint");
        if (el.type !== "file") {
          el.removeAttribute("aria-describedby");
        }
      }
      el.removeAttribute("aria-invalid");
    });
    var legend = row.querySelector("legend");
    if (legend) {
      legend.textContent = "Document " + (index + 1);
    }
  }

  function clearRow(row) {
    row.classList.remove("upload-row--invalid");
    row.removeAttribute("aria-describedby");
    row.querySelectorAll(".upload-row__errors, [data-kept-file]").forEach(function (el) {
      el.remove();
    });
    row.querySelectorAll("[data-error-for]").forEach(function (el) {
      el.textContent = "";
      el.hidden = true;
    });
    row.querySelectorAll(".field--invalid").forEach(function (el) {
      el.classList.remove("field--invalid");
    });
    var fileLabel = row.querySelector("label[for^='file_']");
    if (fileLabel) {
      fileLabel.innerHTML = 'File<span class="required-mark" aria-hidden="true"> *</span>' +
        '<span class="visually-hidden"> (required)</span>';
    }
    row.querySelectorAll("input").forEach(function (input) {
      if (input.type === "checkbox") {
        input.checked = false;
      } else {
        input.value = "";
      }
    });
    row.querySelectorAll("select").forEach(function (select) {
      select.selectedIndex = 0;
    });
    var confirm = row.querySelector("[data-confirm-expired]");
    if (confirm) {
      confirm.hidden = true;
    }
  }

  function enableAddRow(form) {
    var link = form.querySelector("[data-add-row]");
    var rows = form.querySelector("[data-upload-rows]");
    if (!link || !rows) {
      return;
    }
    var max = parseInt(link.getAttribute("data-max-rows"), 10) || 1;
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var existing = rows.querySelectorAll("[data-upload-row]");
      if (existing.length >= max) {
        return;
      }
      var row = existing[existing.length - 1].cloneNode(true);
      clearRow(row);
      renumber(row, existing.length);
      rows.appendChild(row);
      watchRow(form, row);
      var count = existing.length + 1;
      if (count >= max) {
        link.hidden = true;
      }
      var file = row.querySelector("input[type='file']");
      if (file) {
        file.focus();
      }
    });
  }

  function showProgress(form, loaded, total) {
    var box = form.querySelector("[data-upload-progress]");
    if (!box) {
      return;
    }
    box.hidden = false;
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-upload-progress-text]");
    var percent = total > 0 ? Math.floor((loaded / total) * 100) : 0;
    bar.value = percent;
    text.textContent = percent < 100 ? percent + "% sent" : "Sent: checking the files…";
  }

  function replacePage(html) {
    var next = new DOMParser().parseFromString(html, "text/html");
    document.title = next.title;
    document.body.replaceWith(document.adoptNode(next.body));
    init();
    var invalid = document.querySelector("[aria-invalid='true']") || document.querySelector("[role='alert']:not([hidden])");
    if (invalid) {
      if (!invalid.hasAttribute("tabindex") && invalid.getAttribute("role") === "alert") {
        invalid.setAttribute("tabindex", "-1");
      }
      invalid.focus();
    }
  }

  function failed(form, message) {
    form.removeAttribute("data-sending");
    var box = form.querySelector("[data-upload-progress]");
    if (box) {
      box.querySelector("[data-upload-progress-text]").textContent = message;
    }
    form.querySelectorAll("button[type='submit']").forEach(function (button) {
      button.disabled = false;
    });
  }

  function enableSubmit(form) {
    var checked = form.hasAttribute("data-max-file-bytes");
    var progress = window.XMLHttpRequest && window.FormData && window.DOMParser;
    form.addEventListener("submit", function (event) {
      if (event.submitter && event.submitter.hasAttribute("data-add-row")) {
        // Enter in a field "presses" the first button, Add another document: add in place.
        event.preventDefault();
        event.submitter.click();
        return;
      }
      if (checked && !checkForm(form)) {
        event.preventDefault();
        return;
      }
      if (!progress) {
        return;
      }
      event.preventDefault();
      form.setAttribute("data-sending", "");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (update) {
        if (update.lengthComputable) {
          showProgress(form, update.loaded, update.total);
        }
      });
      xhr.addEventListener("load", function () {
        var sentTo = new URL(form.action, window.location.href);
        var landed = xhr.responseURL ? new URL(xhr.responseURL) : sentTo;
        if (landed.pathname !== sentTo.pathname && xhr.status < 400) {
          window.location.assign(landed.href);
        } else {
          replacePage(xhr.responseText);
        }
      });
      xhr.addEventListener("error", function () {
        failed(form, "The upload did not reach the server: check your connection and try again.");
      });
      showProgress(form, 0, 1);
      xhr.send(new FormData(form));
    });
  }

  function init() {
    document.querySelectorAll("form[data-upload-form]").forEach(function (form) {
      if (form.hasAttribute("data-max-file-bytes")) {
        form.querySelectorAll("[data-upload-row]").forEach(function (row) {
          watchRow(form, row);
        });
      }
      enableAddRow(form);
      enableSubmit(form);
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
