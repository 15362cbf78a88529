// The campaign screens' small helpers, nothing the pages need to work without script:
// - a Copy button beside a readonly input ([data-copy]="<input id>"): the Clipboard API, or the
//   text selected for the founder to copy when the browser refuses it (the button stays hidden
//   without script; the input can always be selected by hand);
// - the campaign tag follows the name as it is typed ([data-tag-source] / [data-tag-target]),
//   as the server would make it, until the founder types a tag of their own.
(function () {
  "use strict";

  function say(id, text) {
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (status) { status.textContent = text; }
  }

  function selectText(input) {
    input.focus();
    input.select();
    input.setSelectionRange(0, input.value.length);
  }

  function copy(button) {
    var id = button.getAttribute("data-copy");
    var input = document.getElementById(id);
    if (!input) { return; }
    function fallback() {
      selectText(input);
      say(id, "Selected: press Ctrl+C (⌘C on a Mac) to copy.");
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () {
        say(id, "Copied.");
        button.textContent = "Copied";
        window.setTimeout(function () { button.textContent = "Copy"; }, 2000);
      }, fallback);
    } else {
      fallback();
    }
  }

  // Django's slugify (django.utils.text), then the first 100 characters, as the server makes the
  // tag: NFKD, anything not ASCII dropped, lower case, what is not a letter, digit, "_", "-" or
  // space dropped, runs of "-" and spaces made one "-", "-" and "_" stripped from both ends.
  // "_" inside is kept. Python's \s also takes \x1c-\x1f on ASCII, JavaScript's does not.
  function slug(text) {
    return text.normalize("NFKD").replace(/[^\x00-\x7f]/g, "").toLowerCase()
      .replace(/[^\w\s\x1c-\x1f-]/g, "").replace(/[-\s\x1c-\x1f]+/g, "-").replace(/^[-_]+|[-_]+$/g, "")
      .slice(0, 100);
  }

  function followName() {
    var source = document.querySelector("[data-tag-source] input");
    var target = document.querySelector("[data-tag-target] input");
    if (!source || !target) { return; }
    var following = target.value === "" || target.value === slug(source.value);
    function sync() {
      if (following) { target.value = slug(source.value); }
    }
    source.addEventListener("input", sync);
    sync();  // a name typed before this script ran
    target.addEventListener("input", function () {
      following = target.value === "";
    });
  }

  function init() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { copy(button); });
    });
    document.querySelectorAll("input[readonly]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
    followName();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
