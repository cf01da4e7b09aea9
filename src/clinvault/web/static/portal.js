/* Optional enhancements; every page works without this file. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // Move focus to the first field in error so keyboard and screen-reader users land on it.
    var invalid = document.querySelector("[aria-invalid='true']");
    if (invalid) {
      invalid.focus();
    }
    // Prevent a double submission while the server answers.
    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        form.querySelectorAll("button[type='submit']").forEach(function (button) {
          // Not when a check in the page stopped the submission: the user corrects and resends.
          window.setTimeout(function () { button.disabled = !event.defaultPrevented || form.hasAttribute("data-sending"); }, 0);
        });
      });
    });
  });
})();
