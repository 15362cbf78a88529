// First-party event beacon of a landing page: one "beacon" when the page has loaded (the visitor
// runs JavaScript: a person, not a crawler fetching HTML) and one "cta_click" per click on a call
// to action. navigator.sendBeacon survives the navigation a click starts; no cookie is read here
// (the server knows the visitor from its own first-party cookie), nothing leaves this site.
(function () {
  "use strict";
  var script = document.currentScript;
  var endpoint = script && script.getAttribute("data-endpoint");
  if (!endpoint || !navigator.sendBeacon) {
    return;
  }
  function send(kind) {
    var body = new URLSearchParams();
    body.set("k", kind);
    navigator.sendBeacon(endpoint, body);
  }
  window.addEventListener("load", function () {
    send("beacon");
  });
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-track=cta]") : null;
    if (target) {
      send("cta_click");
    }
  });
})();
