/*
 * coverage-gis gap map — offline page logic (no network, no third-party plugins).
 *
 * coverageGisInit(map, data, options) draws the map from the JSON payload written by
 * coverage_gis.mapexport and publishes a small API on window.coverageGis:
 *
 *   coverageGis.zoomTo(code)          -> bool   zoom to a 镇/街道 by its code and highlight it
 *   coverageGis.setIndicator(id)      -> bool   colour the townships by another indicator
 *   coverageGis.update(patch)         -> bool   new date/options for the same inputs (no reload;
 *                                               false when patch.key is not this page's)
 *   coverageGis.indicator()           -> id     current indicator
 *   coverageGis.indicators()          -> [id]   indicators in this file
 *   coverageGis.search(text)          -> [code] find townships by name (or code) and zoom
 *   coverageGis.highlight(code|null)  -> bool   outline one township (null clears)
 *   coverageGis.setFacilityTypes(list|"all"|"indicator")   show these facility layers
 *   coverageGis.counts()              -> {units, unitsDrawn, facilities, facilitiesShown,
 *                                               planned, sitesShown, …}
 *   coverageGis.setPlacing(on)        -> bool   placing mode: a click on the map reports its
 *                                               WGS84 point (false on a GCJ-02 page)
 *   coverageGis.sites()               -> [name] suggested sites shown (current indicator)
 *   coverageGis.map                   the Leaflet map
 *
 * Township clicks: a CustomEvent "coveragegis:unitclick" ({detail: {code}}) is dispatched on
 * window and, inside the desktop app, bridge.unitClicked(code) is called on the QWebChannel
 * (and bridge.indicatorSelected(id) when the user picks an indicator in the title box)
 * object named "bridge". In placing mode a click calls bridge.mapClicked(lon, lat) instead
 * and dispatches "coveragegis:mapclick" ({detail: {lon, lat}}). The page never loads qwebchannel.js itself: the host injects it
 * (e.g. a QWebEngineScript at DocumentCreation); the channel is opened lazily when
 * window.qt.webChannelTransport and window.QWebChannel exist.
 *
 * Every user string is inserted with textContent (or escaped with esc() where Leaflet
 * only takes HTML: layer-control labels), in an element of its own that isolates it for
 * bidirectional text (coverage_map.css: a name holding U+202E RIGHT-TO-LEFT OVERRIDE
 * cannot reorder the text around it).
 */
(function () {
  'use strict';

  function el(tag, cls, txt) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (txt !== undefined && txt !== null) { e.textContent = String(txt); }
    return e;
  }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function safeColor(c) { return /^#[0-9a-fA-F]{6}$/.test(String(c)) ? c : '#555555'; }
  function row(parent, label, value) {
    var r = el('div', 'cg-row');
    r.appendChild(el('span', 'cg-k', label));
    r.appendChild(el('span', 'cg-v', value));
    parent.appendChild(r);
    return r;
  }
  function swatch(color, round) {
    var s = el('span', round ? 'cg-dot' : 'cg-swatch');
    s.style.background = safeColor(color);
    return s;
  }

  window.coverageGisInit = function (map, data, options) {
    options = options || {};
    var T = data.text;
    var zh = data.lang === 'zh';
    var cur = 0;
    var typeByCode = {};
    data.types.forEach(function (t, i) { typeByCode[t.code] = { i: i, t: t }; });

    ['cg-units', 'cg-counties', 'cg-fac', 'cg-labels', 'cg-sites'].forEach(function (name, k) {
      var p = map.createPane(name);
      p.style.zIndex = String([410, 450, 620, 640, 630][k]);
      if (name === 'cg-counties' || name === 'cg-labels') { p.style.pointerEvents = 'none'; }
    });

    // ---- townships ------------------------------------------------------------------
    var byCode = {};
    var selected = null;
    function styleFor(f) {
      var s = data.statuses[f.properties.st[cur]];
      var st = {
        fillColor: safeColor(s.fill), fillOpacity: s.opacity, color: '#5f5f5f',
        weight: 0.8, opacity: 0.9, dashArray: s.id === 'no_data' ? '3 3' : null
      };
      if (selected === f.properties.code) { st.color = '#0b57d0'; st.weight = 3.5; st.dashArray = null; }
      return st;
    }
    function unitTooltip(f) {
      var p = f.properties;
      var ind = data.indicators[cur];
      var s = data.statuses[p.st[cur]];
      var box = el('div', 'cg-tt');
      var h = el('div', 'cg-tt-h');
      h.appendChild(el('b', null, p.name));
      if (p.kind) { h.appendChild(el('span', 'cg-muted', ' ' + p.kind)); }
      box.appendChild(h);
      row(box, T.county, p.county);
      var sr = row(box, T.status, '');
      sr.lastChild.appendChild(swatch(s.fill, false));
      sr.lastChild.appendChild(document.createTextNode(s.label));
      var counts = p.n[cur];
      ind.types.forEach(function (code, k) {
        var t = typeByCode[code];
        row(box, t ? t.t.name : code, counts[k]);
      });
      if (counts[counts.length - 1] !== null) { row(box, T.qualifying, counts[counts.length - 1]); }
      if (ind.level === 'county') { box.appendChild(el('div', 'cg-muted', T.county_level)); }
      return box;
    }
    var unitsLayer = L.geoJSON(data.units, {
      pane: 'cg-units',
      className: 'cg-unit',
      style: styleFor,
      onEachFeature: function (f, layer) {
        byCode[f.properties.code] = layer;
        layer.bindTooltip(function () { return unitTooltip(f); }, { sticky: true, className: 'cg-tip' });
        layer.on('click', function () { if (!placing) { unitClicked(f.properties.code); } });
      }
    }).addTo(map);

    var countiesLayer = L.geoJSON(data.counties, {
      pane: 'cg-counties', className: 'cg-county', interactive: false,
      style: { color: '#262626', weight: 2.6, opacity: 0.95, fill: false }
    }).addTo(map);

    // ---- labels (shown from labelZoom on) -------------------------------------------
    var labelsLayer = L.layerGroup();
    data.units.features.forEach(function (f) {
      var span = el('span', null, f.properties.name);
      labelsLayer.addLayer(L.marker([f.properties.lp[1], f.properties.lp[0]], {
        pane: 'cg-labels', interactive: false, keyboard: false,
        icon: L.divIcon({ className: 'cg-label', html: span, iconSize: null })
      }));
    });
    labelsLayer.addTo(map);

    // ---- facilities -------------------------------------------------------------------
    var F = data.facilities;
    var groups = data.types.map(function () { return L.layerGroup(); });
    var nFac = F.x.length;
    function facTooltip(i) {
      var t = data.types[F.t[i]];
      var box = el('div', 'cg-tt');
      var h = el('div', 'cg-tt-h');
      h.appendChild(swatch(t.color, true));
      h.appendChild(el('b', null, F.name[i]));
      box.appendChild(h);
      row(box, T.type, t.name);
      row(box, T.address, F.addr[i] === null ? '—' : F.addr[i]);
      row(box, T.status, (F.status[i] === null ? '—' : F.status[i]));
      row(box, T.in_service, F.serv[i] ? T.yes : T.no);
      row(box, T.opened, F.opened[i] === null ? T.unknown : F.opened[i]);
      row(box, T.meets_standard, F.meets[i] === null ? T.unknown : (F.meets[i] ? T.yes : T.no));
      var u = F.u[i] >= 0 ? data.units.features[F.u[i]] : null;
      row(box, T.counted_in, u ? u.properties.name : T.not_located);
      if (F.plan && F.plan[i]) { box.appendChild(el('div', 'cg-planned-note', T.planned_site)); }
      return box;
    }
    var nPlanned = 0;
    var plannedByType = data.types.map(function () { return 0; });
    for (var i = 0; i < nFac; i++) {
      var ti = F.t[i];
      var planned = !!(F.plan && F.plan[i]);
      if (planned) { nPlanned++; plannedByType[ti]++; }
      // a planned site (scenario): larger, dashed purple ring round the type colour
      var m = L.circleMarker([F.y[i], F.x[i]], planned ? {
        pane: 'cg-fac', className: 'cg-fac cg-planned cg-fac-t' + ti, radius: 8,
        color: '#6a1b9a', weight: 2.5, dashArray: '3 2', fillColor: safeColor(data.types[ti].color),
        fillOpacity: 0.9
      } : {
        pane: 'cg-fac', className: 'cg-fac cg-fac-t' + ti, radius: 5,
        color: '#1f1f1f', weight: 1, fillColor: safeColor(data.types[ti].color), fillOpacity: 0.95
      });
      m.bindTooltip((function (k) { return function () { return facTooltip(k); }; })(i), { className: 'cg-tip' });
      groups[ti].addLayer(m);
    }

    // ---- suggested sites (选址建议) of the current indicator, numbered by rank ----------
    var S = data.sites || [];
    var sitesLayer = L.layerGroup();
    function siteTooltip(s) {
      var box = el('div', 'cg-tt');
      var h = el('div', 'cg-tt-h');
      h.appendChild(el('span', 'cg-site-rank', String(Number(s.rank))));
      h.appendChild(el('b', null, ' ' + s.name));
      box.appendChild(h);
      row(box, T.indicator, s.ind);
      row(box, T.county, s.county);
      row(box, T.counted_in, s.unit);
      row(box, T.adds, Number(s.gain).toLocaleString() + ' ' + s.field);
      if (s.closes) { row(box, T.closes_gap, s.closes); }
      row(box, T.nearest_existing, s.near === null ? '—' : Number(s.near).toLocaleString() + ' m');
      return box;
    }
    var shownSites = [];
    function drawSites() {
      sitesLayer.clearLayers();
      shownSites = [];
      var id = data.indicators[cur].id;
      S.forEach(function (s) {
        if (s.ind !== id) { return; }
        shownSites.push(s.name);
        var badge = el('span', null, String(Number(s.rank)));
        var mk = L.marker([s.y, s.x], {
          pane: 'cg-sites', keyboard: false,
          icon: L.divIcon({ className: 'cg-site', html: badge, iconSize: [22, 22], iconAnchor: [11, 11] })
        });
        mk.bindTooltip(function () { return siteTooltip(s); }, { className: 'cg-tip' });
        sitesLayer.addLayer(mk);
      });
    }
    if (S.length) { sitesLayer.addTo(map); }

    // ---- access layers: demand points by distance band, facility catchments ----------
    var demandLayer = L.layerGroup();
    var catchLayer = L.layerGroup();
    var dotRenderer = L.canvas({ padding: 0.3 });
    var accessShown = { demand: true, catch: true };
    function accessTooltip(A, i) {
      var box = el('div', 'cg-tt');
      var band = A.bands[A.points.b[i]];
      var h = el('div', 'cg-tt-h');
      h.appendChild(swatch(band.color, true));
      h.appendChild(el('b', null, band.label));
      box.appendChild(h);
      row(box, T.residents, Number(A.points.w[i]).toLocaleString());
      var d = A.points.d[i];
      row(box, T.nearest, d < 0 ? T.beyond_measured : Number(d).toLocaleString() + ' m');
      return box;
    }
    function drawAccess() {
      demandLayer.clearLayers();
      catchLayer.clearLayers();
      var ind = data.indicators[cur];
      var A = (ind.access === null || ind.access === undefined) ? null : data.access[ind.access];
      if (!A) { return null; }
      L.geoJSON(A.catchments, {
        pane: 'cg-units', interactive: true, className: 'cg-catchment',
        style: { color: '#1f4e99', weight: 1.2, opacity: 0.8, dashArray: '4 3', fillColor: '#4a7fd0', fillOpacity: 0.08 },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(function () {
            var box = el('div', 'cg-tt');
            box.appendChild(el('b', null, f.properties.name));
            row(box, T.within_reach, Number(f.properties.reached).toLocaleString());
            return box;
          }, { sticky: true, className: 'cg-tip' });
        }
      }).addTo(catchLayer);
      var P = A.points;
      for (var i = 0; i < P.x.length; i++) {
        var m = L.circleMarker([P.y[i], P.x[i]], {
          renderer: dotRenderer, radius: 3, weight: 0.5, color: '#333333',
          fillColor: safeColor(A.bands[P.b[i]].color), fillOpacity: 0.9
        });
        m.bindTooltip((function (k) { return function () { return accessTooltip(A, k); }; })(i), { className: 'cg-tip' });
        demandLayer.addLayer(m);
      }
      return A;
    }
    function showAccess() {
      var A = drawAccess();
      [[demandLayer, 'demand'], [catchLayer, 'catch']].forEach(function (p) {
        var want = A !== null && accessShown[p[1]];
        if (want && !map.hasLayer(p[0])) { map.addLayer(p[0]); }
        if (!want && map.hasLayer(p[0])) { map.removeLayer(p[0]); }
      });
    }
    map.on('overlayadd overlayremove', function (e) {
      var ind = data.indicators[cur];
      if (ind.access === null || ind.access === undefined) { return; }
      if (e.layer === demandLayer) { accessShown.demand = e.type === 'overlayadd'; }
      if (e.layer === catchLayer) { accessShown['catch'] = e.type === 'overlayadd'; }
    });

    // ---- controls -----------------------------------------------------------------------
    var overlays = {};
    data.types.forEach(function (t, k) {
      overlays['<span class="cg-dot" style="background:' + safeColor(t.color) + '"></span>' +
        '<bdi>' + esc(t.name) + '</bdi> <span class="cg-muted">(' + Number(t.n) + ')</span>'] = groups[k];
    });
    overlays[esc(T.counties)] = countiesLayer;
    overlays[esc(T.labels)] = labelsLayer;
    if (S.length) { overlays[esc(T.suggested_sites)] = sitesLayer; }
    if (data.access && data.access.length) {
      overlays[esc(T.demand_points)] = demandLayer;
      overlays[esc(T.catchments)] = catchLayer;
    }

    // title box (top left)
    var titleCtl = L.control({ position: 'topleft' });
    var titleEls = {};
    titleCtl.onAdd = function () {
      var box = el('div', 'cg-panel cg-title');
      box.appendChild(el('div', 'cg-title-h', data.title));
      if (data.indicators.length > 1) {
        var sel = el('select', 'cg-select');
        sel.id = 'cg-indicator-select';
        data.indicators.forEach(function (ind) {
          var o = el('option', null, ind.name);
          o.value = ind.id;
          sel.appendChild(o);
        });
        sel.addEventListener('change', function () {
          // a choice made on the page (not by the host) is reported to the desktop app
          if (setIndicator(sel.value)) { notifyHost('indicatorSelected', sel.value); }
        });
        titleEls.select = sel;
        box.appendChild(sel);
      } else {
        titleEls.name = el('div', 'cg-ind-name');
        box.appendChild(titleEls.name);
      }
      titleEls.value = el('div', 'cg-value');
      titleEls.fraction = el('div', 'cg-muted');
      box.appendChild(titleEls.value);
      box.appendChild(titleEls.fraction);
      titleEls.asOf = el('div', 'cg-meta', T.as_of + (zh ? '：' : ': ') + data.asOf);
      titleEls.source = el('div', 'cg-meta', T.source + (zh ? '：' : ': ') + data.source);
      box.appendChild(titleEls.asOf);
      box.appendChild(titleEls.source);
      if (data.schematic) { box.appendChild(el('div', 'cg-schematic', data.schematic)); }
      if (data.gcj02) { box.appendChild(el('div', 'cg-meta', T.note_gcj)); }
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    titleCtl.addTo(map);
    L.control.zoom({ position: 'topleft' }).addTo(map);
    L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);

    // full screen (own control; falls back to a CSS full-window mode)
    var fsCtl = L.control({ position: 'topleft' });
    fsCtl.onAdd = function () {
      var bar = el('div', 'leaflet-bar cg-fs');
      var a = el('a', 'cg-fs-btn');
      a.appendChild(el('span', 'cg-fs-icon'));
      a.href = '#';
      a.title = T.fullscreen;
      a.setAttribute('role', 'button');
      a.setAttribute('aria-label', T.fullscreen);
      L.DomEvent.on(a, 'click', function (e) { L.DomEvent.preventDefault(e); toggleFullscreen(); });
      L.DomEvent.disableClickPropagation(bar);
      bar.appendChild(a);
      return bar;
    };
    fsCtl.addTo(map);
    function toggleFullscreen() {
      var c = map.getContainer();
      if (document.fullscreenElement) { document.exitFullscreen(); return; }
      if (c.classList.contains('cg-pseudo-fs')) {
        c.classList.remove('cg-pseudo-fs'); map.invalidateSize(); return;
      }
      function pseudo() { c.classList.add('cg-pseudo-fs'); map.invalidateSize(); }
      if (document.fullscreenEnabled && c.requestFullscreen) {
        c.requestFullscreen().catch(pseudo);
      } else { pseudo(); }
    }
    document.addEventListener('fullscreenchange', function () { map.invalidateSize(); });

    // search (top right)
    var searchCtl = L.control({ position: 'topright' });
    var searchMsg = null;
    searchCtl.onAdd = function () {
      var box = el('div', 'cg-panel cg-search');
      var input = el('input');
      input.type = 'search';
      input.id = 'cg-search-input';
      input.placeholder = T.search;
      input.setAttribute('list', 'cg-search-list');
      input.setAttribute('aria-label', T.search);
      var list = el('datalist');
      list.id = 'cg-search-list';
      data.units.features.forEach(function (f) {
        var o = el('option');
        o.value = f.properties.name;
        o.label = f.properties.county;
        list.appendChild(o);
      });
      var btn = el('button', null, T.search_button);
      btn.type = 'button';
      searchMsg = el('div', 'cg-muted cg-search-msg');
      input.addEventListener('keydown', function (e) { if (e.key === 'Enter') { search(input.value); } });
      input.addEventListener('change', function () { search(input.value); });
      btn.addEventListener('click', function () { search(input.value); });
      box.appendChild(input);
      box.appendChild(btn);
      box.appendChild(list);
      box.appendChild(searchMsg);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    searchCtl.addTo(map);
    L.control.layers(null, overlays, { collapsed: true, position: 'topright' }).addTo(map);

    // legend (bottom right)
    var legendCtl = L.control({ position: 'bottomright' });
    var legendBody = null;
    legendCtl.onAdd = function () {
      var box = el('div', 'cg-panel cg-legend');
      box.appendChild(el('div', 'cg-legend-h', T.legend));
      legendBody = el('div');
      box.appendChild(legendBody);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    legendCtl.addTo(map);

    function renderLegend() {
      var ind = data.indicators[cur];
      legendBody.textContent = '';
      data.statuses.forEach(function (s) {
        var r = el('div', 'cg-legend-row');
        var sw = swatch(s.fill, false);
        if (s.id === 'no_data') { sw.classList.add('cg-swatch-dashed'); }
        r.appendChild(sw);
        r.appendChild(el('span', null, s.label + ' (' + ind.tally[s.id] + ')'));
        legendBody.appendChild(r);
      });
      var cr = el('div', 'cg-legend-row');
      cr.appendChild(el('span', 'cg-line'));
      cr.appendChild(el('span', null, T.counties));
      legendBody.appendChild(cr);
      var A = (ind.access === null || ind.access === undefined) ? null : data.access[ind.access];
      if (A) {
        legendBody.appendChild(el('div', 'cg-legend-sub', T.demand_points + ' · ' + A.reach));
        A.bands.forEach(function (b) {
          var r = el('div', 'cg-legend-row');
          r.appendChild(swatch(b.color, true));
          r.appendChild(el('span', null, b.label));
          legendBody.appendChild(r);
        });
        if (A.omitted) {
          legendBody.appendChild(el('div', 'cg-muted', Number(A.omitted).toLocaleString() + ' ' + T.omitted_points));
        }
        var c = el('div', 'cg-legend-row');
        c.appendChild(el('span', 'cg-line cg-line-dashed'));
        c.appendChild(el('span', null, T.catchments));
        legendBody.appendChild(c);
      }
      if (map.hasLayer(sitesLayer) && sitesLayer.getLayers().length) {
        var sr2 = el('div', 'cg-legend-row');
        sr2.appendChild(el('span', 'cg-site cg-site-key', '1'));
        sr2.appendChild(el('span', null, T.suggested_sites + ' (' + sitesLayer.getLayers().length + ')'));
        legendBody.appendChild(sr2);
      }
      var plannedShown = 0;
      data.types.forEach(function (t, k) { if (map.hasLayer(groups[k])) { plannedShown += plannedByType[k]; } });
      if (plannedShown) {
        var pr = el('div', 'cg-legend-row');
        pr.appendChild(el('span', 'cg-dot cg-planned-key'));
        pr.appendChild(el('span', null, T.planned_sites + ' (' + plannedShown + ')'));
        legendBody.appendChild(pr);
      }
      legendBody.appendChild(el('div', 'cg-legend-sub', T.facilities));
      data.types.forEach(function (t, k) {
        if (!map.hasLayer(groups[k])) { return; }
        var r = el('div', 'cg-legend-row');
        r.appendChild(swatch(t.color, true));
        r.appendChild(el('span', null, t.name));
        r.appendChild(document.createTextNode(' (' + Number(t.n) + ')'));
        legendBody.appendChild(r);
      });
    }
    map.on('overlayadd overlayremove', renderLegend);

    function renderTitle() {
      var ind = data.indicators[cur];
      if (titleEls.select) { titleEls.select.value = ind.id; }
      if (titleEls.name) { titleEls.name.textContent = ind.name; }
      titleEls.value.textContent = ind.line;
      titleEls.fraction.textContent = ind.fraction || '';
      titleEls.value.className = 'cg-value' + (ind.met === false ? ' cg-bad' : (ind.met === true ? ' cg-good' : ''));
    }

    // ---- API --------------------------------------------------------------------------
    function setFacilityTypes(which) {
      var want;
      if (which === 'all') { want = data.types.map(function (t) { return t.code; }); }
      else if (which === 'indicator' || which === undefined) { want = data.indicators[cur].types; }
      else { want = which; }
      data.types.forEach(function (t, k) {
        var on = want.indexOf(t.code) >= 0;
        if (on && !map.hasLayer(groups[k])) { map.addLayer(groups[k]); }
        if (!on && map.hasLayer(groups[k])) { map.removeLayer(groups[k]); }
      });
      renderLegend();
      return true;
    }
    function setIndicator(id) {
      var k = -1;
      data.indicators.forEach(function (ind, j) { if (ind.id === id) { k = j; } });
      if (k < 0) { return false; }
      cur = k;
      unitsLayer.setStyle(styleFor);
      renderTitle();
      showAccess();
      drawSites();
      setFacilityTypes('indicator');
      return true;
    }
    // Date-only change from the host: same units, facilities and indicators, new statuses,
    // counts and in-service flags. Refused (false) when the page was drawn from other inputs.
    function update(patch) {
      if (!patch || patch.key !== data.key || !patch.indicators ||
          patch.indicators.length !== data.indicators.length) { return false; }
      data.asOf = patch.asOf;
      data.source = patch.source;
      data.indicators = patch.indicators;
      data.units.features.forEach(function (f) {
        var u = patch.units[f.properties.code];
        if (u) { f.properties.st = u.st; f.properties.n = u.n; }
      });
      data.facilities.serv = patch.serv;
      if (patch.access) { data.access = patch.access; }
      unitsLayer.setStyle(styleFor);
      showAccess();
      titleEls.asOf.textContent = T.as_of + (zh ? '：' : ': ') + data.asOf;
      titleEls.source.textContent = T.source + (zh ? '：' : ': ') + data.source;
      renderTitle();
      renderLegend();
      return true;
    }
    function highlight(code) {
      var prev = selected;
      selected = (code !== null && code !== undefined && byCode[code]) ? code : null;
      if (prev && byCode[prev]) { unitsLayer.resetStyle(byCode[prev]); }
      if (selected) { unitsLayer.resetStyle(byCode[selected]); byCode[selected].bringToFront(); }
      return selected !== null;
    }
    function zoomTo(code) {
      var layer = byCode[code];
      if (!layer) { return false; }
      map.fitBounds(layer.getBounds(), { padding: [30, 30], maxZoom: Math.max(labelZoom + 2, 12), animate: false });
      highlight(code);
      return true;
    }
    function search(q) {
      q = String(q === undefined || q === null ? '' : q).trim();
      if (!q) { if (searchMsg) { searchMsg.textContent = ''; } return []; }
      var feats = data.units.features;
      var hits = feats.filter(function (f) { return f.properties.name === q || f.properties.code === q; });
      if (!hits.length) {
        var ql = q.toLowerCase();
        hits = feats.filter(function (f) {
          return f.properties.name.toLowerCase().indexOf(ql) >= 0 ||
            (f.properties.county + f.properties.name).toLowerCase().indexOf(ql) >= 0;
        });
      }
      var codes = hits.map(function (f) { return f.properties.code; });
      if (searchMsg) {
        searchMsg.textContent = '';
        if (codes.length === 0) {
          searchMsg.appendChild(document.createTextNode(T.not_found + (zh ? '：' : ': ')));
          searchMsg.appendChild(el('span', null, q));
        } else if (codes.length > 1) {
          searchMsg.textContent = codes.length + ' ' + T.matches;
        } else {
          searchMsg.appendChild(el('span', null, hits[0].properties.county));
          searchMsg.appendChild(document.createTextNode(' '));
          searchMsg.appendChild(el('span', null, hits[0].properties.name));
        }
      }
      if (codes.length === 1) { zoomTo(codes[0]); }
      else if (codes.length > 1) {
        var b = L.latLngBounds([]);
        codes.forEach(function (c) { b.extend(byCode[c].getBounds()); });
        map.fitBounds(b, { padding: [30, 30], animate: false });
        highlight(codes[0]);
      }
      return codes;
    }

    var bridge = null;
    var channelOpened = false;
    var pendingClicks = [];  // clicks made before the channel finished connecting
    function connectBridge() {
      if (channelOpened) { return; }
      if (window.qt && window.qt.webChannelTransport && typeof window.QWebChannel === 'function') {
        channelOpened = true;
        new window.QWebChannel(window.qt.webChannelTransport, function (ch) {
          bridge = ch.objects.bridge || null;
          var queued = pendingClicks.splice(0);
          if (bridge && typeof bridge.unitClicked === 'function') { queued.forEach(function (c) { bridge.unitClicked(c); }); }
        });
      }
    }
    function notifyHost(method, value) {
      connectBridge();
      if (bridge && typeof bridge[method] === 'function') { bridge[method](value); }
      window.dispatchEvent(new CustomEvent('coveragegis:' + method.toLowerCase(), { detail: { value: value } }));
    }
    var placing = false;
    function setPlacing(on) {
      if (data.gcj02) { return false; }  // the page's points are shifted: no WGS84 to report
      placing = !!on;
      map.getContainer().classList.toggle('cg-placing', placing);
      return true;
    }
    map.on('click', function (e) {
      if (!placing) { return; }
      var lon = e.latlng.lng, lat = e.latlng.lat;
      connectBridge();
      if (bridge && typeof bridge.mapClicked === 'function') { bridge.mapClicked(lon, lat); }
      window.dispatchEvent(new CustomEvent('coveragegis:mapclick', { detail: { lon: lon, lat: lat } }));
    });
    function unitClicked(code) {
      highlight(code);
      connectBridge();
      if (bridge && typeof bridge.unitClicked === 'function') { bridge.unitClicked(code); }
      else if (channelOpened && !bridge) { pendingClicks.push(code); }
      window.dispatchEvent(new CustomEvent('coveragegis:unitclick', { detail: { code: code } }));
    }

    // ---- initial view -----------------------------------------------------------------
    map.fitBounds(data.bounds, { padding: [10, 10], animate: false });
    var labelZoom = options.labelZoom || map.getZoom() + 1;
    function onZoom() {
      map.getContainer().classList.toggle('cg-labels-hidden', map.getZoom() < labelZoom);
    }
    map.on('zoomend', onZoom);
    onZoom();
    setIndicator(data.indicators[0].id);
    connectBridge();

    window.coverageGis = {
      version: 1,
      map: map,
      zoomTo: zoomTo,
      setIndicator: setIndicator,
      update: update,
      asOf: function () { return data.asOf; },
      indicator: function () { return data.indicators[cur].id; },
      indicators: function () { return data.indicators.map(function (ind) { return ind.id; }); },
      search: search,
      highlight: highlight,
      setFacilityTypes: setFacilityTypes,
      setPlacing: setPlacing,
      placing: function () { return placing; },
      sites: function () { return shownSites.slice(); },
      labelZoom: function () { return labelZoom; },
      counts: function () {
        var shown = 0;
        groups.forEach(function (g) { if (map.hasLayer(g)) { shown += g.getLayers().length; } });
        return {
          units: Object.keys(byCode).length,
          unitsDrawn: map.getContainer().querySelectorAll('path.cg-unit').length,
          facilities: nFac,
          facilitiesShown: shown,
          planned: nPlanned,
          sitesShown: map.hasLayer(sitesLayer) ? sitesLayer.getLayers().length : 0,
          demandShown: map.hasLayer(demandLayer) ? demandLayer.getLayers().length : 0,
          catchmentsShown: map.hasLayer(catchLayer) ? catchLayer.getLayers().reduce(function (n, g) { return n + (g.getLayers ? g.getLayers().length : 1); }, 0) : 0
        };
      }
    };
    return window.coverageGis;
  };
})();
