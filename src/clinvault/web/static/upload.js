/* Upload forms: a progress bar while the files are sent, and rows added in place.
   The plain form works without this file: it posts normally and "Add another
   document" is a link that reloads the page with one more row. */
(function () {
  "use strict";

  function renumber(row, index) {
    row.querySelectorAll("[id], [name], [for], [aria-describedby]").forEach(function (el) {
      ["id", "name", "for"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) {
          el.setAttribute(attr, value.replace(/_\d+$/, "_" + index));
        }
      });
      el.removeAttribute("aria-describedby");
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
    row.querySelectorAll(".upload-row__errors, .field__hint").forEach(function (el) {
      el.remove();
    });
    row.querySelectorAll("input").forEach(function (input) {
      input.value = "";
    });
    row.querySelectorAll("select").forEach(function (select) {
      select.selectedIndex = 0;
    });
  }

  function enableAddRow(form) {
    var link = form.querySelector("[data-add-row]");
    var rows = form.querySelector("[data-upload-rows]");
    if (!link || !rows) {
      return;
    }
    var max = parseInt(link.getAttribute("data-max-rows"), 10) || 1;
    link.addEventListener("click", function (event) {
      var existing = rows.querySelectorAll("[data-upload-row]");
      if (existing.length >= max) {
        return;
      }
      event.preventDefault();
      var row = existing[existing.length - 1].cloneNode(true);
      clearRow(row);
      renumber(row, existing.length);
      rows.appendChild(row);
      var count = existing.length + 1;
      link.href = link.pathname + "?rows=" + Math.min(count + 1, max);
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
    var invalid = document.querySelector("[aria-invalid='true']") || document.querySelector("[role='alert']");
    if (invalid) {
      if (!invalid.hasAttribute("tabindex") && invalid.getAttribute("role") === "alert") {
        invalid.setAttribute("tabindex", "-1");
      }
      invalid.focus();
    }
  }

  function failed(form, message) {
    var box = form.querySelector("[data-upload-progress]");
    if (box) {
      box.querySelector("[data-upload-progress-text]").textContent = message;
    }
    form.querySelectorAll("button[type='submit']").forEach(function (button) {
      button.disabled = false;
    });
  }

  function enableProgress(form) {
    if (!window.XMLHttpRequest || !window.FormData || !window.DOMParser) {
      return;
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (progress) {
        if (progress.lengthComputable) {
          showProgress(form, progress.loaded, progress.total);
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
      enableAddRow(form);
      enableProgress(form);
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
