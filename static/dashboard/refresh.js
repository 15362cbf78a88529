// Refreshes the performance monitor's panels in place: fetches the panels fragment every N
// seconds (chosen on the page, remembered in this browser, default from the server) and swaps
// each [data-panel] element by id. Without JavaScript the page works with its Refresh link.
(function () {
  "use strict";
  var root = document.querySelector("[data-dashboard]");
  if (!root) { return; }
  var select = document.getElementById("refresh-interval");
  var pause = document.getElementById("refresh-pause");
  var status = document.getElementById("refresh-status");
  var stored = window.localStorage.getItem("performance-monitor-refresh");
  var seconds = parseInt(stored || root.dataset.refresh, 10) || 30;
  var paused = false;
  var timer = null;
  var busy = false;

  document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });
  if (!Array.prototype.some.call(select.options, function (o) { return o.value === String(seconds); })) {
    var option = document.createElement("option");
    option.value = String(seconds);
    option.textContent = seconds + " s";
    select.appendChild(option);
  }
  select.value = String(seconds);

  function schedule() {
    window.clearTimeout(timer);
    if (!paused) { timer = window.setTimeout(refresh, seconds * 1000); }
  }

  function refresh() {
    if (busy) { return; }
    busy = true;
    fetch(root.dataset.panelsUrl, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.redirected || !response.ok) {
          throw new Error(response.redirected ? "signed out" : "HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        fresh.querySelectorAll("[data-panel]").forEach(function (panel) {
          var current = document.getElementById(panel.id);
          if (current) { current.replaceWith(document.adoptNode(panel)); }
        });
        status.textContent = "Updated " + new Date().toLocaleTimeString();
      })
      .catch(function (error) { status.textContent = "Refresh failed (" + error.message + ")"; })
      .then(function () { busy = false; schedule(); });
  }

  select.addEventListener("change", function () {
    seconds = parseInt(select.value, 10) || 30;
    window.localStorage.setItem("performance-monitor-refresh", String(seconds));
    schedule();
  });
  pause.addEventListener("click", function () {
    paused = !paused;
    pause.textContent = paused ? "Resume" : "Pause";
    pause.setAttribute("aria-pressed", String(paused));
    status.textContent = paused ? "Paused" : "";
    schedule();
  });
  schedule();
}());
