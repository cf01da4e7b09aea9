/* An import job's page: refresh its status section in place while the job runs.
   Without this file the page reloads itself (a <noscript> meta refresh). */
(function () {
  "use strict";

  function schedule(section) {
    var url = section.getAttribute("data-job-poll");
    if (!url || !window.fetch || !window.DOMParser) {
      return;
    }
    var seconds = parseInt(section.getAttribute("data-job-poll-seconds"), 10) || 2;
    window.setTimeout(function () {
      window.fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("status " + response.status);
          }
          return response.text();
        })
        .then(function (html) {
          var next = new DOMParser().parseFromString(html, "text/html");
          var fresh = next.querySelector("[data-job-status]");
          if (!fresh) {
            return;
          }
          var current = document.querySelector("[data-job-status]");
          current.replaceWith(document.adoptNode(fresh));
          schedule(fresh);
        })
        .catch(function () {
          schedule(section);
        });
    }, seconds * 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var section = document.querySelector("[data-job-status][data-job-poll]");
    if (section) {
      schedule(section);
    }
  });
})();
