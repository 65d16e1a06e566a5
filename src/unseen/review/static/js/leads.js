/* The leads queue, keyboard first: move between groups, open one, categorise its
 * undecided pictures with the scheme's digits, mark it looked at, or skip it. "r"
 * (held) reveals the focused group's first picture; the mouse reveals any. */
(function () {
  "use strict";
  const box = document.getElementById("lead-groups");
  if (!box) return;
  const Unseen = window.Unseen;
  const keys = JSON.parse(box.dataset.keys || "{}");
  const canDecide = box.dataset.canDecide === "yes";
  const groups = () => Array.from(box.querySelectorAll(".lead-group"));
  const current = () => document.activeElement && document.activeElement.closest
    ? document.activeElement.closest(".lead-group") : null;

  function move(step) {
    const all = groups();
    const at = all.indexOf(current());
    const next = all[Math.min(Math.max(at + step, 0), all.length - 1)];
    if (next) { next.focus(); next.scrollIntoView({ block: "nearest" }); }
  }

  Unseen.revealTarget = () => {
    const group = current();
    return group ? group.querySelector(".tile[data-id]") : null;
  };

  async function looked(group) {
    await Unseen.api("/api/leads/looked", { kind: "cluster", target: Number(group.dataset.cluster) });
    group.classList.add("looked");
    const chip = group.querySelector(".chip.new");
    if (chip) { chip.textContent = "looked at"; chip.className = "chip seen"; }
  }

  async function categorise(group, code) {
    const expected = Number(group.dataset.undecided);
    if (!expected) { Unseen.status("nothing undecided in this group"); return; }
    await looked(group); // before: a group with nothing left undecided leaves the queue
    const data = await Unseen.api("/api/leads/categorise-group",
      { cluster: Number(group.dataset.cluster), code: code, expected: expected });
    Unseen.status(`${data.count} pictures categorised ${code}; leads re-ranked`);
    window.location.reload();
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest && event.target.closest("input, select, textarea")) return;
    const group = current();
    if (event.key === "j" || event.key === "ArrowDown") { event.preventDefault(); move(group ? 1 : 0); return; }
    if (event.key === "k" || event.key === "ArrowUp") { event.preventDefault(); move(-1); return; }
    if (!group) return;
    if (event.key === "Enter") {
      window.location.href = `/grid?cluster=${group.dataset.cluster}`;
    } else if (event.key === "s") {
      move(1);
    } else if (event.key === "l") {
      looked(group).then(() => move(1)).catch((e) => Unseen.status(e.message));
    } else if (canDecide && keys[event.key]) {
      categorise(group, keys[event.key]).catch((e) => Unseen.status(e.message));
    }
  });
})();
