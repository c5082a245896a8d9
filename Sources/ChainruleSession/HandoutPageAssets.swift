/// The stylesheet and the script of the `--html` page, inlined into it (see ``HandoutPage``).
/// Fonts are the system's own stacks; nothing is loaded from anywhere.
extension HandoutPage {
    static let style = #"""
:root {
  --ink: #1d232b; --muted: #5b6570; --rule: #d9dee4; --paper: #ffffff; --panel: #f5f7f9;
  --value: #1a4d8f; --gradient: #b0301c; --accent: #d35400; --error: #b3261e; --warning: #8a5a00;
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif;
  --mono: ui-monospace, "DejaVu Sans Mono", "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
html { background: var(--paper); color: var(--ink); }
body { margin: 0 auto; max-width: 78rem; padding: 1.5rem 1.5rem 3rem; font: 16px/1.5 var(--sans); }
header { border-bottom: 2px solid var(--ink); margin-bottom: 1.5rem; }
h1 { font-size: 1.8rem; margin: 0 0 0.3rem; }
h2 { font-size: 1.35rem; margin: 2rem 0 0.8rem; padding-bottom: 0.2rem; border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.1rem; margin: 1.8rem 0 0.6rem; }
var { font-family: var(--mono); font-style: normal; }
.lead { color: var(--muted); max-width: 52rem; margin: 0 0 0.6rem; }
nav ul { list-style: none; padding: 0; margin: 0 0 0.8rem; display: flex; flex-wrap: wrap; gap: 0.3rem 1.5rem; }
a { color: var(--value); }
kbd { font: 0.85em var(--mono); border: 1px solid var(--rule); border-bottom-width: 2px; border-radius: 4px; padding: 0 0.3em; background: var(--panel); }
pre { font: 14px/1.4 var(--mono); margin: 0; white-space: pre; overflow-x: auto; tab-size: 4; }
.comment { margin: 1rem 0 0.4rem; max-width: 56rem; color: #2f3a45; font-style: italic; }
.statement { border-left: 3px solid var(--rule); margin: 0 0 0.7rem; padding: 0.1rem 0 0.1rem 0.8rem; }
.statement.failed { border-left-color: var(--error); }
.code { display: flex; gap: 0.8rem; align-items: baseline; }
.where { flex: none; min-width: 9rem; color: var(--muted); font: 12px/1.4 var(--mono); }
.source { font-weight: 600; color: var(--ink); }
.output { background: var(--panel); border-radius: 4px; padding: 0.45rem 0.7rem; margin: 0.3rem 0 0; color: #23303d; }
.diagnostic { border-radius: 4px; padding: 0.45rem 0.7rem; margin: 0.3rem 0 0; }
.diagnostic.error { background: #fdecea; color: var(--error); border: 1px solid #f3b8b2; }
.diagnostic.warning { background: #fff6e0; color: var(--warning); border: 1px solid #ecd291; }
.diagnostic.note { background: #eef4fb; color: var(--value); }
.note, .stopped { color: var(--muted); font-style: italic; margin: 0.4rem 0; }
.stopped { color: var(--error); font-style: normal; font-weight: 600; }
.how { color: var(--muted); max-width: 56rem; margin: 0 0 0.6rem; }
figure { margin: 0.6rem 0 1rem; }
figcaption { color: var(--muted); font-size: 0.9rem; margin-top: 0.3rem; }
.drawing { overflow-x: auto; }
.drawing svg { max-width: 100%; height: auto; display: block; }
details.terminal { margin-top: 0.3rem; }
details.terminal summary { color: var(--muted); font-size: 0.9rem; cursor: pointer; }
.walk { border: 1px solid var(--rule); border-radius: 8px; padding: 0.8rem 1rem 0.4rem; background: #fbfcfd; }
.walk:focus { outline: 2px solid var(--accent); outline-offset: 2px; }
.controls { display: flex; align-items: center; gap: 1rem; margin-bottom: 0.7rem; position: sticky; top: 0; background: #fbfcfd; padding: 0.3rem 0; z-index: 1; }
.controls button { font: 600 15px var(--sans); padding: 0.35rem 0.9rem; border: 1px solid #b9c2cc; border-radius: 6px; background: var(--paper); color: var(--ink); cursor: pointer; }
.controls button:hover:not(:disabled) { border-color: var(--accent); color: var(--accent); }
.controls button:disabled { opacity: 0.4; cursor: default; }
.counter { font: 600 15px var(--mono); min-width: 16rem; text-align: center; }
.frame { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
.frame[hidden] { display: none; }
.frame .step { white-space: pre-wrap; flex: 1 1 26rem; background: var(--panel); border-radius: 4px; padding: 0.6rem 0.8rem; }
.frame figure { flex: 2 1 28rem; margin: 0; min-width: 0; }
.frame > .note { flex-basis: 100%; margin: 0; }
.frame.wide .step, .frame.wide figure { flex-basis: 100%; }
footer { margin-top: 3rem; color: var(--muted); font-size: 0.85rem; border-top: 1px solid var(--rule); padding-top: 0.6rem; }
@media print {
  body { max-width: none; padding: 0; }
  .controls, nav { display: none; }
  .walk .frame[hidden] { display: flex !important; }
  .frame { break-inside: avoid; border-top: 1px solid var(--rule); padding-top: 0.5rem; margin-bottom: 0.5rem; }
  .statement, figure { break-inside: avoid; }
}

"""#

    /// Steps the walks: ← → (and the buttons) move the walk last used, the first by default; a
    /// fragment `#frame=N` or `#walk=K&frame=N` sends as many key presses as it takes.
    static let script = #"""
(function () {
  "use strict";
  var walks = Array.prototype.slice.call(document.querySelectorAll(".walk"));
  if (walks.length === 0) { document.documentElement.setAttribute("data-ready", "true"); return; }
  var active = walks[0];

  function show(walk, index) {
    var frames = walk.querySelectorAll(".frame");
    index = Math.max(0, Math.min(frames.length - 1, index));
    for (var i = 0; i !== frames.length; i += 1) { frames[i].hidden = i !== index; }
    walk.setAttribute("data-frame", String(index));
    walk.querySelector(".counter").textContent =
      "step " + index + " of " + (frames.length - 1) + " \u00b7 " + frames[index].getAttribute("data-title");
    walk.querySelector('[data-move="-1"]').disabled = index === 0;
    walk.querySelector('[data-move="1"]').disabled = index === frames.length - 1;
  }

  function move(walk, delta) {
    show(walk, Number(walk.getAttribute("data-frame")) + delta);
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var delta = { ArrowRight: 1, ArrowLeft: -1, PageDown: 1, PageUp: -1 }[event.key];
    if (delta === undefined) { return; }
    event.preventDefault();
    move(active, delta);
  });

  walks.forEach(function (walk) {
    walk.addEventListener("focusin", function () { active = walk; });
    walk.addEventListener("click", function (event) {
      active = walk;
      var button = event.target.closest("button[data-move]");
      if (button) { move(walk, Number(button.getAttribute("data-move"))); }
    });
    show(walk, 0);
  });

  // A link to a frame goes there by the arrow keys, one press per step.
  function follow() {
    var found = /^#(?:walk=(\d+)&)?frame=(\d+)$/.exec(window.location.hash);
    if (!found) { return; }
    active = walks[Math.max(0, Math.min(walks.length - 1, Number(found[1] || "1") - 1))];
    var frames = active.querySelectorAll(".frame").length;
    var wanted = Math.min(frames - 1, Number(found[2]));
    var delta = wanted - Number(active.getAttribute("data-frame"));
    var key = delta > 0 ? "ArrowRight" : "ArrowLeft";
    for (var i = 0; i !== Math.abs(delta); i += 1) {
      document.dispatchEvent(new KeyboardEvent("keydown", { key: key, bubbles: true, cancelable: true }));
    }
    active.scrollIntoView({ block: "start" });
  }
  window.addEventListener("hashchange", follow);
  follow();
  document.documentElement.setAttribute("data-ready", "true");
}());

"""#
}
