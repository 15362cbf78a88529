// The landing page's script, in two parts.
//
// The forms' mark: once the visitor interacts with a form (a real key press, tap, click, or the
// input events autofill fires), the form gets a hidden "js" field naming its form token. The
// server then knows a browser ran this page and a person used it, and stores the signup however
// fast it came (autofill is instant); a form sent without the mark and within seconds of the
// page loading is held for a confirm button instead (projects.forms.SignupForm.doubt).
//
// The event beacon (when the script tag names an endpoint): one "beacon" when the page has loaded
// (the visitor runs JavaScript: a person, not a crawler fetching HTML) and one "cta_click" per
// click on a call to action. navigator.sendBeacon survives the navigation a click starts; no
// cookie is read here (the server knows the visitor from its own first-party cookie), nothing
// leaves this site.
(function () {
  "use strict";
  var script = document.currentScript;
  var endpoint = script && script.getAttribute("data-endpoint");

  function mark(event) {
    // Events a page's own script dispatches are not the visitor's.
    if (!event.isTrusted || !(event.target instanceof Element)) {
      return;
    }
    var form = event.target.closest("form");
    var token = form && form.querySelector("input[name=form_token]");
    if (!token || !token.value || form.querySelector("input[name=js]")) {
      return;
    }
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "js";
    input.value = "js-" + token.value.split(".").pop(); // the token's id (projects.forms.script_mark)
    form.appendChild(input);
  }
  ["pointerdown", "touchstart", "keydown", "input", "change"].forEach(function (kind) {
    document.addEventListener(kind, mark, { capture: true, passive: true });
  });

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
