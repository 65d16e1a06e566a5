/* The grid: keyboard-first categorising.
 *
 * Arrows move the focus; shift+arrows (or shift+click) select a range; space (or
 * ctrl/cmd+click) toggles one tile; a digit applies that category of the case's
 * scheme to the selection, or else to the focused tile (and moves on); "u" undoes
 * your last action; Enter (or a double click) opens the item; Escape clears.
 */
(function () {
  "use strict";
  const grid = document.getElementById("grid");
  if (!grid) return;
  const U = window.Unseen;
  const tiles = Array.from(grid.querySelectorAll(".tile"));
  const keys = JSON.parse(grid.dataset.keys || "{}");
  const canDecide = grid.dataset.canDecide === "yes";
  const byId = new Map(tiles.map((t) => [t.dataset.id, t]));
  const selected = new Set();
  let focus = 0;
  let anchor = 0;

  function columns() {
    if (tiles.length === 0) return 1;
    const top = tiles[0].offsetTop;
    const n = tiles.findIndex((t) => t.offsetTop !== top);
    return n === -1 ? tiles.length : n;
  }

  function paintSelection() {
    tiles.forEach((t, i) => t.classList.toggle("selected", selected.has(i)));
    const count = document.getElementById("selection-count");
    if (count) count.textContent = `${selected.size} selected`;
  }

  function setFocus(index, extend) {
    if (tiles.length === 0) return;
    focus = Math.max(0, Math.min(tiles.length - 1, index));
    tiles.forEach((t, i) => { t.tabIndex = i === focus ? 0 : -1; });
    tiles[focus].focus({ preventScroll: false });
    if (extend) {
      selected.clear();
      const [a, b] = [Math.min(anchor, focus), Math.max(anchor, focus)];
      for (let i = a; i <= b; i += 1) selected.add(i);
      paintSelection();
    } else {
      anchor = focus;
    }
  }

  U.revealTarget = () => tiles[focus] || null;

  function update(items) {
    Object.entries(items || {}).forEach(([id, info]) => {
      const tile = byId.get(id);
      if (!tile) return;
      tile.querySelector(".badge.rev").textContent = info.rev || "";
      tile.classList.toggle("disagree", Boolean(info.disagree));
      const flag = tile.querySelector(".flag");
      if (flag) flag.textContent = info.disagree ? "≠" : "";
    });
  }

  async function categorise(code) {
    if (!canDecide || tiles.length === 0) return;
    const bulk = selected.size > 0;
    const indexes = bulk ? Array.from(selected).sort((a, b) => a - b) : [focus];
    const ids = indexes.map((i) => parseInt(tiles[i].dataset.id, 10));
    try {
      const result = await U.api("/api/categorise", { items: ids, code: code });
      update(result.items);
      U.status(`${code} → ${result.count} item${result.count === 1 ? "" : "s"}`);
      if (bulk) {
        selected.clear();
        paintSelection();
      } else {
        setFocus(focus + 1, false);
      }
    } catch (error) {
      U.status(`not saved: ${error.message}`);
    }
  }

  async function undo() {
    if (!canDecide) return;
    try {
      const result = await U.api("/api/undo", {});
      update(result.items);
      U.status(result.count ? `undone: ${result.count} item${result.count === 1 ? "" : "s"}` : "nothing to undo");
    } catch (error) {
      U.status(`undo failed: ${error.message}`);
    }
  }

  document.addEventListener("keydown", (event) => {
    if (event.target.closest && event.target.closest("input, select, textarea")) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -columns(), ArrowDown: columns() }[event.key];
    if (step !== undefined) {
      event.preventDefault();
      setFocus(focus + step, event.shiftKey);
    } else if (event.key === " ") {
      event.preventDefault();
      if (selected.has(focus)) selected.delete(focus); else selected.add(focus);
      anchor = focus;
      paintSelection();
    } else if (event.key === "Enter") {
      if (tiles[focus]) window.location.href = tiles[focus].dataset.href;
    } else if (event.key === "Escape") {
      selected.clear();
      paintSelection();
    } else if (event.key === "u" && !event.repeat) {
      undo();
    } else if (Object.prototype.hasOwnProperty.call(keys, event.key) && !event.repeat) {
      event.preventDefault();
      categorise(keys[event.key]);
    }
  });

  tiles.forEach((tile, index) => {
    tile.addEventListener("click", (event) => {
      if (U.suppressClick) { U.suppressClick = false; return; }
      if (event.shiftKey) {
        setFocus(index, true);
      } else if (event.ctrlKey || event.metaKey) {
        if (selected.has(index)) selected.delete(index); else selected.add(index);
        setFocus(index, false);
        paintSelection();
      } else {
        selected.clear();
        paintSelection();
        setFocus(index, false);
      }
    });
    tile.addEventListener("dblclick", () => { window.location.href = tile.dataset.href; });
  });

  const bulkButton = document.getElementById("bulk-filter");
  if (bulkButton) {
    bulkButton.addEventListener("click", async () => {
      const code = document.getElementById("bulk-code").value;
      const total = parseInt(grid.dataset.total, 10);
      if (!window.confirm(`Apply category ${code} to all ${total} items matching this filter?`)) return;
      try {
        const filter = JSON.parse(grid.dataset.filter || "{}");
        const result = await U.api("/api/categorise-filter", { filter: filter, code: code, expected: total });
        U.status(`${code} → ${result.count} items`);
        window.location.reload();
      } catch (error) {
        U.status(`not saved: ${error.message}`);
      }
    });
  }

  if (tiles.length) setFocus(0, false);
})();
