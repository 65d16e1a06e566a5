/* unseen review: shared page code. Loaded as a file (the CSP forbids inline scripts).
 *
 * - calls the server's JSON API with the session's CSRF token;
 * - deliberate reveals: a blurred item is shown only while the reviewer holds the
 *   "r" key (on the focused item) or holds the mouse button on it for a moment, one
 *   item at a time; the clear thumbnail is fetched with a grant from the server's
 *   audited reveal endpoint; each reveal's duration is metered and may prompt a break.
 */
(function () {
  "use strict";

  const HOLD_MS = 250; // a press shorter than this is a click, not a reveal
  const meta = (name) => {
    const el = document.querySelector(`meta[name="${name}"]`);
    return el ? el.getAttribute("content") : "";
  };
  const csrf = meta("csrf-token");
  const blur = parseInt(meta("blur"), 10);
  if (!Number.isNaN(blur)) {
    // Setting a custom property through the CSSOM is allowed by style-src 'self'.
    document.documentElement.style.setProperty("--blur", `${blur}px`);
  }

  async function api(path, body) {
    const response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {}),
    });
    if (response.status === 401) {
      window.location.href = "/login?next=" + encodeURIComponent(window.location.pathname + window.location.search);
      throw new Error("logged out");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error(typeof data.detail === "string" ? data.detail : `error ${response.status}`);
    }
    return data;
  }

  let statusTimer = null;
  function status(text) {
    const el = document.getElementById("status");
    if (!el) return;
    el.textContent = text;
    el.hidden = false;
    clearTimeout(statusTimer);
    statusTimer = setTimeout(() => { el.hidden = true; }, 2500);
  }

  // --- break prompt -------------------------------------------------------------
  function offerBreak(reveals, seconds) {
    const box = document.getElementById("break-prompt");
    if (!box || !box.hidden) return;
    const minutes = Math.max(1, Math.round(seconds / 60));
    document.getElementById("break-text").textContent =
      `You have revealed ${reveals} items (about ${minutes} min of viewing) since your last break.`;
    box.hidden = false;
  }
  document.addEventListener("click", (event) => {
    if (event.target && event.target.id === "break-ok") {
      document.getElementById("break-prompt").hidden = true;
      api("/api/break").catch(() => {});
    }
  });

  // --- deliberate reveals ------------------------------------------------------------
  const live = new Map(); // container -> start time (ms)

  // The server sends thumbnails greyscale and blurred; the clear one needs a grant from
  // the audited, metered reveal endpoint, fetched when the hold starts.
  function thumbOf(container) {
    const img = container.querySelector("img.wellness");
    const src = img ? img.getAttribute("src") || "" : "";
    return src.startsWith("/thumb/") ? img : null;
  }

  function clearThumb(container) {
    const img = thumbOf(container);
    const id = parseInt(container.dataset.id || "", 10);
    if (!img || Number.isNaN(id)) return;
    const blurred = img.getAttribute("src").split("?")[0];
    img.dataset.blurredSrc = blurred;
    api("/api/reveal-thumbs", { items: [id] })
      .then((data) => {
        if (live.has(container)) img.src = `${blurred}?t=${encodeURIComponent(data.token)}`;
      })
      .catch((error) => status(`cannot reveal: ${error.message}`));
  }

  function blurThumb(container) {
    const img = thumbOf(container);
    if (img && img.dataset.blurredSrc) {
      img.src = img.dataset.blurredSrc;
      delete img.dataset.blurredSrc;
    }
  }

  function startReveal(container) {
    if (!container || live.has(container) || !container.querySelector(".wellness")) return;
    container.classList.add("revealed");
    live.set(container, performance.now());
    clearThumb(container);
  }

  function endReveal(container) {
    if (!live.has(container)) return;
    const ms = Math.round(performance.now() - live.get(container));
    live.delete(container);
    container.classList.remove("revealed");
    blurThumb(container);
    const id = parseInt(container.dataset.id || "", 10);
    const kind = container.dataset.kind === "full" ? "full" : "thumb";
    api("/api/exposure", { item: Number.isNaN(id) ? null : id, kind: kind, ms: ms })
      .then((data) => { if (data.break) offerBreak(data.reveals, data.seconds); })
      .catch(() => {});
  }

  function endAll() { Array.from(live.keys()).forEach(endReveal); }

  // Pages set Unseen.revealTarget to say what "r" reveals (the focused tile, the medium).
  const Unseen = {
    api, status, startReveal, endReveal, suppressClick: false,
    revealTarget: () => (document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("[data-id]") : null),
  };
  window.Unseen = Unseen;

  let keyTarget = null;
  document.addEventListener("keydown", (event) => {
    if (event.key !== "r" || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest && event.target.closest("input, select, textarea")) return;
    keyTarget = Unseen.revealTarget();
    startReveal(keyTarget);
  });
  document.addEventListener("keyup", (event) => {
    if (event.key === "r" && keyTarget) { endReveal(keyTarget); keyTarget = null; }
  });
  window.addEventListener("blur", endAll);
  document.addEventListener("visibilitychange", endAll);

  let holdTimer = null;
  let pressed = null;
  document.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    const container = event.target.closest && event.target.closest("[data-id], #media-frame");
    if (!container || !container.querySelector(".wellness")) return;
    pressed = container;
    Unseen.suppressClick = false;
    holdTimer = setTimeout(() => { Unseen.suppressClick = true; startReveal(container); }, HOLD_MS);
  });
  const release = () => {
    clearTimeout(holdTimer);
    if (pressed) { endReveal(pressed); pressed = null; }
  };
  document.addEventListener("pointerup", release);
  document.addEventListener("pointercancel", release);
  document.addEventListener("dragstart", (event) => event.preventDefault());

  // Tiles outside the grid (similar items, leads) open their item on a click.
  document.addEventListener("click", (event) => {
    const tile = event.target.closest && event.target.closest(".tile[data-href]");
    if (!tile || tile.closest("#grid")) return;
    if (Unseen.suppressClick) { Unseen.suppressClick = false; event.preventDefault(); return; }
    window.location.href = tile.dataset.href;
  });
})();
