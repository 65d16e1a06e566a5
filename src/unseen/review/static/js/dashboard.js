/* Dashboard: while a processing run is unfinished, refresh its progress every 5 s. */
(function () {
  "use strict";
  const panel = document.getElementById("progress");
  if (!panel || panel.dataset.running !== "yes") return;
  const set = (id, value) => {
    const el = document.getElementById(id);
    if (el) el.textContent = String(value);
  };
  const timer = setInterval(async () => {
    try {
      const response = await fetch("/api/progress", { credentials: "same-origin" });
      if (!response.ok) return;
      const p = await response.json();
      set("p-processed", p.processed);
      set("p-pending", p.pending);
      if (!p.running) {
        clearInterval(timer);
        window.location.reload();
      }
    } catch (error) {
      /* the server may be restarting; try again at the next tick */
    }
  }, 5000);
})();
