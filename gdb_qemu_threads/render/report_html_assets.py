"""The style sheet and the little script of the HTML report, inline (the page loads nothing).

Without JavaScript the page is whole; the script only adds sorting and a filter to the table."""
from __future__ import annotations

ROLE_COLOURS = {
    "main-loop": "#17becf", "vcpu": "#2ca02c", "iothread": "#1f77b4", "worker": "#bcbd22",
    "call-rcu": "#9467bd", "migration": "#e377c2", "migration-return-path": "#e377c2",
    "multifd-send": "#e377c2", "multifd-recv": "#e377c2", "postcopy": "#e377c2",
    "vnc-worker": "#8c564b", "qemu-other": "#7f7f7f",
}
LIBRARY_COLOUR = "#b0b0b0"
STATE_COLOURS = {"guest": "#2ca02c", "idle": "#9e9e9e", "lock": "#e6a100", "io": "#bcbd22",
                 "running": "#1f77b4", "unknown": "#c7c7c7", "blocked": "#d62728", "crashed": "#d62728"}

# Content-Security-Policy: the page may fetch nothing at all, whatever a name in it says.
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1400px; padding: 0 12px 40px; color: #222; background: #fff; }
h1 { font-size: 1.35em; margin: 14px 0 6px; } h2 { font-size: 1.15em; margin: 22px 0 8px;
  border-bottom: 1px solid #ddd; padding-bottom: 2px; }
dl.meta { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 0; }
dl.meta div { display: flex; gap: 6px; } dl.meta dt { color: #666; }
dl.meta dd { margin: 0; font-weight: 600; min-width: 0; }
.verdict { border-left: 4px solid #d62728; background: #fdf0ef; padding: 6px 10px; margin: 10px 0; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: 13px; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f6f6f6; position: sticky; top: 0; }
th button { font: inherit; font-weight: 600; border: 0; background: none; padding: 0; cursor: pointer; }
th[aria-sort=ascending] button::after { content: " \\25B2"; }
th[aria-sort=descending] button::after { content: " \\25BC"; }
td.evidence, td.created { color: #555; font-size: 12px; }
tr.deadlock td { background: #fdf0ef; }
.chip { display: inline-block; padding: 0 6px; border-radius: 8px; color: #fff; white-space: nowrap; }
.state { display: inline-block; padding: 0 5px; border-left: 4px solid; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 10px; font-size: 12px; }
#filter { margin: 4px 0 8px; padding: 4px 6px; width: min(320px, 100%); font: inherit; }
figure { margin: 8px 0 16px; overflow-x: auto; } figcaption { font-weight: 600; margin-bottom: 4px; }
figure svg { max-width: 100%; height: auto; }
.note { color: #666; font-style: italic; }
/* anywhere, not break-word: a long path must also let its flex box shrink to a phone's width */
p, li, summary, dd { overflow-wrap: anywhere; }
.cycle { color: #d62728; font-weight: 600; }
details.group { border: 1px solid #ddd; border-radius: 4px; margin: 6px 0; }
details.group > summary { padding: 4px 8px; cursor: pointer; background: #fafafa; }
details.group > div { padding: 0 8px 6px; }
.bt pre { margin: 4px 0; padding: 6px; overflow-x: auto; font-size: 12px; line-height: 1.35; }
.bt .hll { background: #fff3c4; display: block; font-weight: 600; }
pre.plain { background: #f8f8f8; padding: 6px; overflow-x: auto; font-size: 12px; }
.members { font-size: 12px; color: #555; word-break: break-word; }
#all-threads > summary { cursor: pointer; margin: 8px 0; font-weight: 600; }
/* A phone: pictures keep their size and scroll sideways inside their box, so text stays legible. */
@media (max-width: 600px) { body { font-size: 13px; } td.evidence, th.col-evidence { display: none; }
  figure svg { max-width: none; } }
"""

SCRIPT = """
(function () {
  var table = document.getElementById('threads');
  var filter = document.getElementById('filter');
  if (!table || !filter) { return; }
  var body = table.tBodies[0];
  filter.hidden = false;
  filter.addEventListener('input', function () {
    var wanted = filter.value.toLowerCase();
    Array.prototype.forEach.call(body.rows, function (row) {
      row.hidden = wanted !== '' && row.textContent.toLowerCase().indexOf(wanted) < 0;
    });
  });
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, column) {
    var button = document.createElement('button');
    button.type = 'button';
    button.textContent = th.textContent;
    th.textContent = '';
    th.appendChild(button);
    button.addEventListener('click', function () {
      var ascending = th.getAttribute('aria-sort') !== 'ascending';
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].textContent, y = b.cells[column].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
"""
