// Parts of a page that wait for a background job carry `data-refresh` and an id: this script
// re-reads the same address every few seconds and swaps each such part for its newer copy, until
// the newer copy no longer carries `data-refresh` (the job is done) or two minutes have passed.
// A static file because the Content-Security-Policy allows no inline script; without scripts
// the page still says what is pending and a reload shows the outcome.
(function () {
  "use strict";
  var started = Date.now();
  var LIMIT_MS = 120000;

  function pending() {
    return Array.prototype.filter.call(document.querySelectorAll("[data-refresh][id]"), function (el) {
      return el.id;
    });
  }

  function schedule(delay) {
    if (Date.now() - started > LIMIT_MS || pending().length === 0) return;
    window.setTimeout(poll, delay);
  }

  function poll() {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        pending().forEach(function (el) {
          var newer = fresh.getElementById(el.id);
          if (newer) el.replaceWith(document.importNode(newer, true));
        });
        schedule(3000);
      })
      .catch(function () {
        schedule(10000);
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { schedule(2000); });
  } else {
    schedule(2000);
  }
})();
