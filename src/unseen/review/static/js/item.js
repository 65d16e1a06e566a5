/* The item page: categorise with digits or buttons, undo with "u", reveal the
 * thumbnail by holding "r" or the mouse, open the full-size medium through the
 * audited reveal endpoint (shown blurred too; videos muted, never autoplaying). */
(function () {
  "use strict";
  const root = document.getElementById("item");
  if (!root) return;
  const U = window.Unseen;
  const id = parseInt(root.dataset.id, 10);
  const keys = JSON.parse(root.dataset.keys || "{}");
  const canDecide = root.dataset.canDecide === "yes";
  const frame = document.getElementById("media-frame");
  frame.dataset.id = String(id);
  U.revealTarget = () => frame;

  function show(result) {
    const info = (result.items || {})[String(id)];
    if (!info) return;
    const cell = document.getElementById("rev-code");
    cell.textContent = "";
    if (info.rev) {
      const badge = document.createElement("span");
      badge.className = "badge rev";
      badge.textContent = info.rev;
      cell.appendChild(badge);
      cell.appendChild(document.createTextNode(" (just now)"));
    } else {
      cell.textContent = "not reviewed";
    }
    document.getElementById("disagree").textContent = info.disagree ? "Reviewer and hash sets disagree" : "";
  }

  async function categorise(code) {
    if (!canDecide) return;
    try {
      const result = await U.api("/api/categorise", { items: [id], code: code });
      show(result);
      U.status(`${code} saved`);
    } catch (error) {
      U.status(`not saved: ${error.message}`);
    }
  }

  async function undo() {
    if (!canDecide) return;
    try {
      const result = await U.api("/api/undo", {});
      show(result);
      U.status(result.count ? "undone" : "nothing to undo");
    } catch (error) {
      U.status(`undo failed: ${error.message}`);
    }
  }

  document.addEventListener("keydown", (event) => {
    if (event.target.closest && event.target.closest("input, select, textarea")) return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    if (event.key === "u") undo();
    else if (Object.prototype.hasOwnProperty.call(keys, event.key)) categorise(keys[event.key]);
    else if (event.key === "Escape") window.history.back();
  });
  document.querySelectorAll("button.cat").forEach((button) => {
    button.addEventListener("click", () => categorise(button.dataset.code));
  });
  const undoButton = document.getElementById("undo");
  if (undoButton) undoButton.addEventListener("click", undo);

  const full = document.getElementById("reveal-full");
  if (full) {
    full.addEventListener("click", async () => {
      try {
        const result = await U.api(`/api/reveal/${id}`, {});
        frame.textContent = "";
        let element;
        if (result.kind === "video") {
          element = document.createElement("video");
          element.muted = true;
          element.autoplay = false;
          element.controls = true;
          element.preload = "metadata";
          element.playsInline = true;
        } else {
          element = document.createElement("img");
          element.alt = "";
          element.draggable = false;
        }
        element.className = "wellness";
        element.src = result.url;
        frame.appendChild(element);
        frame.dataset.kind = "full";
        full.disabled = true;
        U.status("full size opened (recorded); still blurred until you hold r or the mouse");
      } catch (error) {
        U.status(`cannot open: ${error.message}`);
      }
    });
  }
})();
