/* The reviewer app's small script: keyboard shortcuts, live SLA clocks, the decision panel.
   Everything works without it; it only saves the reviewer time. No inline script (CSP). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  // --- Live time left -------------------------------------------------------------
  var body = document.body;
  function timeLeft(seconds) {
    var span = Math.abs(seconds), d = Math.floor(span / 86400), h = Math.floor((span % 86400) / 3600),
        m = Math.floor((span % 3600) / 60), s = span % 60;
    var amount = d ? d + "d " + h + "h" : h ? h + "h " + m + "m" : m + "m " + s + "s";
    var format = seconds < 0 ? body.dataset.overdueFormat : body.dataset.leftFormat;
    return (format || "%(amount)s").replace("%(amount)s", amount);
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-due]").forEach(function (el) {
      var seconds = Math.round((Date.parse(el.getAttribute("datetime")) - now) / 1000);
      el.textContent = timeLeft(seconds);
      el.classList.toggle("overdue", seconds < 0);
      el.classList.toggle("soon", seconds >= 0 && seconds < 3600);
    });
  }

  // --- Decision panel -------------------------------------------------------------
  function currentVerdict(form) {
    var checked = form.querySelector("input[name=verdict]:checked");
    return checked ? checked.value : "";
  }
  function syncPanel(form) {
    var verdict = currentVerdict(form);
    form.querySelectorAll("[data-show-for]").forEach(function (el) {
      el.classList.toggle("shown", el.dataset.showFor === verdict);
    });
    var meaning = form.querySelector("[data-meaning]");
    if (meaning && verdict && meaning.dataset["meaning" + verdict.charAt(0).toUpperCase() + verdict.slice(1)]) {
      meaning.textContent = meaning.dataset["meaning" + verdict.charAt(0).toUpperCase() + verdict.slice(1)];
    }
    var preset = form.querySelector("select[data-preset-target]");
    if (preset) {
      preset.querySelectorAll("optgroup").forEach(function (group) {
        var hidden = verdict && group.dataset.verdict !== verdict;
        group.hidden = hidden;
        group.disabled = hidden;
      });
    }
  }
  function setupPanels() {
    document.querySelectorAll("#decision-form, #post-review-form, #batch-form").forEach(function (form) {
      form.addEventListener("change", function (event) {
        if (event.target.name === "verdict") syncPanel(form);
      });
      syncPanel(form);
    });
    document.querySelectorAll("select[data-preset-target]").forEach(function (select) {
      select.addEventListener("change", function () {
        var target = document.getElementById(select.dataset.presetTarget);
        if (target && select.value) {
          target.value = select.value;
          target.focus();
          target.setSelectionRange(target.value.length, target.value.length);
        }
      });
    });
  }
  function chooseVerdict(value) {
    var form = document.getElementById("decision-form");
    if (!form) return false;
    var radio = form.querySelector("input[name=verdict][value=" + value + "]");
    if (!radio) return false;
    radio.checked = true;
    syncPanel(form);
    var focus = value === "modify" ? form.querySelector("#modify-editor input, #modify-editor textarea")
      : value === "request_changes" ? form.querySelector("textarea[name=instructions]") : null;
    (focus || form.querySelector("textarea[name=rationale]")).focus();
    return true;
  }

  // --- Batch selection: one action type and rule ---------------------------------
  function setupBatch() {
    var counter = document.querySelector("[data-batch-count]");
    var list = document.querySelector("[data-batch-list]");
    var bar = document.getElementById("batch-form");
    function update() {
      var boxes = Array.prototype.slice.call(document.querySelectorAll("input[data-batch-kind]"));
      var chosen = boxes.filter(function (box) { return box.checked; });
      var kind = chosen.length ? chosen[0].dataset.batchKind : null;
      boxes.forEach(function (box) { box.disabled = kind !== null && box.dataset.batchKind !== kind; });
      if (counter) counter.textContent = String(chosen.length);
      if (list) {
        list.textContent = "";
        chosen.forEach(function (box) {
          var item = document.createElement("li");
          item.textContent = box.dataset.summary || ("#" + box.value);
          list.appendChild(item);
        });
      }
      // The form sits at the bottom of the screen, next to the rows, once something is selected.
      if (bar) bar.classList.toggle("idle", chosen.length === 0);
    }
    document.addEventListener("change", function (event) {
      if (event.target.matches && event.target.matches("input[data-batch-kind]")) update();
    });
    document.body.addEventListener("htmx:afterSwap", update);
    update();
  }

  // --- Queue rows and shortcuts --------------------------------------------------
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr[data-row]")); }
  var cursor = -1;
  function moveCursor(step) {
    var all = rows();
    if (!all.length) return false;
    cursor = Math.max(0, Math.min(all.length - 1, cursor + step));
    all.forEach(function (row, index) { row.classList.toggle("cursor", index === cursor); });
    var link = all[cursor].querySelector("a");
    if (link) link.focus();
    return true;
  }
  function navigate(direction) {
    var link = document.querySelector("a[data-nav=" + direction + "]");
    if (link) { window.location.href = link.href; return true; }
    return moveCursor(direction === "next" ? 1 : -1);
  }
  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }
  function toggleHelp() {
    var dialog = document.getElementById("keyboard-help");
    if (!dialog) return;
    if (dialog.open) dialog.close(); else dialog.showModal();
  }
  // WCAG 2.1.4: single-key shortcuts can be turned off (remembered in this browser).
  var SHORTCUTS_KEY = "hitl-shortcuts";
  function shortcutsOn() {
    try { return window.localStorage.getItem(SHORTCUTS_KEY) !== "off"; } catch (error) { return true; }
  }
  function setupShortcutToggle() {
    var toggle = document.getElementById("shortcuts-enabled");
    if (!toggle) return;
    toggle.checked = shortcutsOn();
    toggle.addEventListener("change", function () {
      try { window.localStorage.setItem(SHORTCUTS_KEY, toggle.checked ? "on" : "off"); } catch (error) { /* private mode */ }
    });
  }
  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || !shortcutsOn()) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    var handled = false;
    switch (event.key) {
      case "j": handled = navigate("next"); break;
      case "k": handled = navigate("prev"); break;
      case "a": handled = chooseVerdict("approve"); break;
      case "r": handled = chooseVerdict("reject"); break;
      case "m": handled = chooseVerdict("modify"); break;
      case "e": handled = chooseVerdict("escalate"); break;
      case "c": handled = chooseVerdict("request_changes"); break;
      case "t":
        var claim = document.getElementById("claim-form");
        if (claim) { claim.requestSubmit(); handled = true; }
        break;
      case "/":
        var search = document.getElementById("id_q");
        if (search) { search.focus(); search.select(); handled = true; }
        else { window.location.href = body.dataset.queueUrl + "?focus=search"; handled = true; }
        break;
      case "?": toggleHelp(); handled = true; break;
    }
    if (handled) event.preventDefault();
  }

  function setupFilters() {
    var toggle = document.querySelector("[data-filters-toggle]");
    var filters = document.getElementById("queue-filters");
    if (!toggle || !filters) return;
    toggle.addEventListener("click", function () {
      var collapsed = filters.classList.toggle("collapsed");
      toggle.setAttribute("aria-expanded", collapsed ? "false" : "true");
    });
  }

  ready(function () {
    setupPanels();
    setupFilters();
    setupBatch();
    setupShortcutToggle();
    document.querySelectorAll("[data-help-toggle]").forEach(function (button) {
      button.addEventListener("click", toggleHelp);
    });
    document.addEventListener("keydown", onKey);
    if (/[?&]focus=search/.test(window.location.search)) {
      var search = document.getElementById("id_q");
      if (search) search.focus();
    }
    tick();
    window.setInterval(tick, 1000);
    document.documentElement.setAttribute("data-js-ready", "");  // the browser tests wait for it
  });
})();
