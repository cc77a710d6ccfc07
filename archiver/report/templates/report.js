"use strict";
(function () {
  var table = document.getElementById("bag-table");
  if (!table) { return; }
  var tbody = table.tBodies[0];
  var form = document.querySelector("form.controls");
  var filter = document.getElementById("filter");
  var status = document.getElementById("status");
  var count = document.getElementById("count");
  var more = document.getElementById("more");
  var note = document.getElementById("more-note");
  var dataNode = document.getElementById("bag-data");
  var STEP = 1000;
  var items = [];
  var rows = tbody.rows;
  var i;
  // An item per bag: its sort keys, the text the filter searches, its row (made on demand).
  for (i = 0; i < rows.length; i++) {
    var cells = rows[i].cells;
    var keys = [];
    for (var c = 0; c < cells.length; c++) {
      var td = cells[c];
      keys.push(td.hasAttribute("data-sort") ? td.getAttribute("data-sort") : td.textContent.trim());
    }
    items.push({ id: rows[i].id, keys: keys, text: rows[i].textContent.toLowerCase(),
                 cls: rows[i].className, row: rows[i] });
  }
  // The bags beyond the plain rows (see data_rows in archiver/report/render.py).
  var data = dataNode ? JSON.parse(dataNode.textContent) : { runs: {}, dirs: [], copies: [], rows: [] };
  function historyText(checks, failed) {
    if (!checks) { return "never checked"; }
    var text = checks.toLocaleString("en") + (checks === 1 ? " check" : " checks");
    return text + (failed ? ", " + failed.toLocaleString("en") + " failed" : ", all valid");
  }
  data.rows.forEach(function (d) {
    var copies = data.copies[d[10]];
    var history = historyText(d[6], d[7]);
    items.push({ id: "b" + d[0], keys: [d[1], d[3], String(d[5]), d[4], String(d[9]), copies, String(d[12]), String(d[6])],
                 text: [d[1], d[3], d[4], d[8], copies, d[11], history].join(" ").toLowerCase(),
                 cls: d[13], d: d, row: null });
  });
  var numeric = [false, false, true, false, true, false, true, true];
  var shown = rows.length;
  var sortKey = -1;
  var sortDir = 1;
  var matched = items.slice();

  function cell(tag, text) {
    var node = document.createElement(tag);
    node.textContent = text;
    return node;
  }
  function makeRow(d) {
    var tr = document.createElement("tr");
    tr.id = "b" + d[0];
    tr.className = d[13];
    var th = document.createElement("th");
    th.scope = "row";
    var span = cell("span", d[1]);
    span.title = data.dirs[d[2]] + d[1];
    th.appendChild(span);
    tr.appendChild(th);
    tr.appendChild(cell("td", d[3]));
    tr.appendChild(cell("td", d[5] ? data.runs[d[5]] : "never"));
    var st = document.createElement("td");
    st.appendChild(cell("span", d[4])).className = "st";
    tr.appendChild(st);
    tr.appendChild(cell("td", d[8]));
    tr.appendChild(cell("td", data.copies[d[10]]));
    tr.appendChild(cell("td", d[11]));
    var hist = cell("td", historyText(d[6], d[7]));
    if (document.getElementById("h" + d[0])) {
      var link = cell("a", "history");
      link.href = "#h" + d[0];
      hist.appendChild(document.createTextNode(" "));
      hist.appendChild(link);
    }
    tr.appendChild(hist);
    return tr;
  }
  function wanted(item, text, which) {
    if (which === "failing" && item.cls.indexOf("bad") < 0) { return false; }
    if (which === "never" && item.cls.indexOf("never") < 0) { return false; }
    if (which === "repaired" && item.cls.indexOf("repaired") < 0) { return false; }
    if (which === "valid" && item.cls.indexOf("ok") < 0) { return false; }
    return !text || item.text.indexOf(text) >= 0;
  }
  function render() {
    var fragment = document.createDocumentFragment();
    var limit = Math.min(shown, matched.length);
    for (var k = 0; k < limit; k++) {
      var item = matched[k];
      if (!item.row) { item.row = makeRow(item.d); }
      fragment.appendChild(item.row);
    }
    tbody.replaceChildren(fragment);
    count.value = "Showing " + limit.toLocaleString("en") + " of " + matched.length.toLocaleString("en") +
      " matching bags (" + items.length.toLocaleString("en") + " in all)";
    if (more) { more.hidden = limit >= matched.length; }
  }
  function update() {
    var text = filter.value.trim().toLowerCase();
    var which = status.value;
    matched = items.filter(function (item) { return wanted(item, text, which); });
    if (sortKey >= 0) {
      var key = sortKey;
      matched.sort(function (a, b) {
        var x = a.keys[key];
        var y = b.keys[key];
        var r = numeric[key] ? Number(x) - Number(y) : (x < y ? -1 : x > y ? 1 : 0);
        return r * sortDir;
      });
    }
    shown = Math.max(STEP, rows.length);
    render();
  }
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, index) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = th.textContent;
    th.textContent = "";
    th.appendChild(button);
    button.addEventListener("click", function () {
      sortDir = sortKey === index ? -sortDir : 1;
      sortKey = index;
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      update();
    });
  });
  filter.addEventListener("input", update);
  status.addEventListener("change", update);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  if (more) {
    more.addEventListener("click", function () { shown += STEP; render(); });
  }
  // A link to a bag whose row is not shown (filtered out, or not yet made) shows it.
  function reveal() {
    var id = decodeURIComponent(location.hash.slice(1));
    if (!/^b\d+$/.test(id) || document.getElementById(id)) { return; }
    filter.value = "";
    status.value = "all";
    update();
    for (var k = 0; k < matched.length; k++) {
      if (matched[k].id === id) {
        if (k >= shown) { shown = k + 1; render(); }
        matched[k].row.scrollIntoView();
        return;
      }
    }
  }
  window.addEventListener("hashchange", reveal);
  form.hidden = false;
  if (note) { note.hidden = true; }
  update();
  reveal();
})();
