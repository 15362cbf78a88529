// Live figures: every element marked data-live="<seconds>" (with hx-get and
// hx-trigger="live-refresh") is refreshed in place by htmx every that many seconds while the tab is
// visible, and once at once when the tab comes back after its time passed. A hidden tab asks the
// server for nothing. htmx runs without eval, so the pause lives here rather than in a trigger
// filter. Without JavaScript the page shows the figures of its load and a Refresh link.
(function () {
  "use strict";
  var due = new WeakMap();

  function seconds(el) {
    var value = parseInt(el.getAttribute("data-live"), 10);
    return value > 0 ? value : 30;
  }

  function tick() {
    if (document.hidden || !window.htmx) { return; }
    var now = Date.now();
    document.querySelectorAll("[data-live]").forEach(function (el) {
      var when = due.get(el);
      if (when === undefined) { due.set(el, now + seconds(el) * 1000); return; }
      if (now >= when) {
        due.set(el, now + seconds(el) * 1000);
        window.htmx.trigger(el, "live-refresh");
      }
    });
  }

  document.addEventListener("visibilitychange", tick);
  window.setInterval(tick, 1000);
}());
