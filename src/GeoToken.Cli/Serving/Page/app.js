// The page of `geotoken serve`: a photo in (file input or drag and drop) → POST predict → the ranked candidates,
// the uncertainty circle and the nearest places on an offline equirectangular world map (x = longitude,
// y = -latitude, in degrees). No inline script or style, nothing fetched from anywhere but this server.
'use strict';
(() => {
  const EARTH_RADIUS_KM = 6371.0; // as GeoToken.Geometry.Geodesy.EarthRadiusKm
  const SVG = 'http://www.w3.org/2000/svg';
  const RAD = Math.PI / 180;
  const WORLD_VIEW = { x: -180, y: -90, width: 360, height: 180 };
  const WHOLE_MAP = 'M-540,-90H540V90H-540Z'; // the map and its copies left and right of it
  const $ = id => document.getElementById(id);
  const map = $('map'), world = $('world'), result = $('result'), status = $('status');
  const input = $('photo'), drop = $('drop'), preview = $('preview'), zoom = $('zoom');
  let shown = null; // { prediction, fit } of the photo on the map
  let wholeWorld = false;

  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text.replace(/\s+/g, ' ').trim();
  }

  function element(name, attributes, parent) {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, String(v));
    if (parent) parent.appendChild(e);
    return e;
  }

  const fmt = v => (Math.round(v * 1000) / 1000).toString();
  const wrapLongitude = lon => ((lon + 540) % 360) - 180;

  // Longitudes made continuous (consecutive points at most 180° apart), so that a ring crossing the antimeridian
  // stays one shape; it is then drawn with copies 360° left and right, which the map's edges clip.
  function unwrap(points, reference) {
    const out = [];
    let previous = reference;
    for (const [lon, lat] of points) {
      let x = lon;
      if (previous !== undefined) {
        while (x - previous > 180) x -= 360;
        while (x - previous < -180) x += 360;
      }
      out.push([x, lat]);
      previous = x;
    }
    return out;
  }

  // A closed ring of [lon, lat] as SVG path data, shifted by dx. A ring whose unwrapped longitudes end a full turn
  // from where they started goes around a pole (pole: +1 north, -1 south): it is closed along that pole's map edge.
  function ringPath(ring, pole, dx) {
    const parts = ring.map(([x, lat], i) => `${i === 0 ? 'M' : 'L'}${fmt(x + dx)},${fmt(-lat)}`);
    if (pole !== 0) {
      const y = -90 * pole;
      parts.push(`L${fmt(ring[ring.length - 1][0] + dx)},${y}`, `L${fmt(ring[0][0] + dx)},${y}`);
    }
    return parts.join('') + 'Z';
  }

  function encirclesPole(ring) {
    return Math.abs(ring[ring.length - 1][0] - ring[0][0]) > 180;
  }

  function withCopies(ring, pole) {
    return [-360, 0, 360].map(dx => ringPath(ring, pole, dx)).join('');
  }

  // The point at angular distance d (radians) from (lat, lon) along the initial bearing (degrees), on the sphere.
  function destination(lat, lon, bearing, d) {
    const phi1 = lat * RAD, theta = bearing * RAD;
    const sinPhi2 = Math.sin(phi1) * Math.cos(d) + Math.cos(phi1) * Math.sin(d) * Math.cos(theta);
    const phi2 = Math.asin(Math.max(-1, Math.min(1, sinPhi2)));
    const lambda = Math.atan2(Math.sin(theta) * Math.sin(d) * Math.cos(phi1), Math.cos(d) - Math.sin(phi1) * sinPhi2);
    return [lon + lambda / RAD, phi2 / RAD];
  }

  // The boundary of the spherical cap of angular radius d around (lat, lon): a closed ring, unwrapped from lon.
  function capRing(lat, lon, d) {
    const points = [];
    for (let i = 0; i <= 360; i++) points.push(destination(lat, lon, i === 360 ? 0 : i, d));
    return unwrap(points, lon);
  }

  // The geodesic circle of radius km around (lat, lon) as SVG path data (even-odd fill) and the ring to fit the
  // view to (null when the circle reaches a pole: then the view is the whole world).
  function circle(lat, lon, km) {
    const d = km / EARTH_RADIUS_KM;
    if (!(d > 0) || !Number.isFinite(d)) return null;
    if (d >= Math.PI) return { path: WHOLE_MAP, ring: null }; // the whole sphere
    if (d > Math.PI / 2) {
      // More than a hemisphere: the whole map minus the cap around the antipode.
      const hole = capRing(-lat, wrapLongitude(lon + 180), Math.PI - d);
      return { path: WHOLE_MAP + withCopies(hole, encirclesPole(hole) ? -Math.sign(lat) || 1 : 0), ring: null };
    }
    const ring = capRing(lat, lon, d);
    const pole = encirclesPole(ring) ? (lat >= 0 ? 1 : -1) : 0;
    return { path: withCopies(ring, pole), ring: pole === 0 ? ring : null };
  }

  function drawWorld(countries) {
    for (const country of countries) {
      const d = country.rings.map(flat => {
        const points = [];
        for (let i = 0; i + 1 < flat.length; i += 2) points.push([flat[i], flat[i + 1]]);
        const ring = unwrap(points);
        // Only Antarctica's outline goes around a pole; its ring is south of the equator.
        const pole = encirclesPole(ring) ? (points.reduce((s, p) => s + p[1], 0) < 0 ? -1 : 1) : 0;
        return ringPath(ring, pole, 0);
      }).join('');
      const path = element('path', { d, class: 'country' }, world);
      element('title', {}, path).textContent = country.name;
    }
    let grid = '';
    for (let lon = -180; lon <= 180; lon += 30) grid += `M${lon},-90V90`;
    for (let lat = -60; lat <= 60; lat += 30) grid += `M-540,${-lat}H540`;
    element('path', { d: grid, class: 'graticule' }, $('graticule'));
  }

  // A view that holds the candidates and the circle, 2:1 like the map, at least ~6° wide.
  function fitView(points) {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const [x, lat] of points) {
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, -lat); y1 = Math.max(y1, -lat);
    }
    let width = Math.max(6, (x1 - x0) * 1.3, (y1 - y0) * 1.3 * 2);
    if (width >= 300) return WORLD_VIEW;
    const height = width / 2;
    const cx = (x0 + x1) / 2;
    const cy = Math.min(90 - height / 2, Math.max(-90 + height / 2, (y0 + y1) / 2));
    return { x: cx - width / 2, y: cy - height / 2, width, height };
  }

  function render() {
    result.replaceChildren();
    if (!shown) return;
    const view = wholeWorld ? WORLD_VIEW : shown.fit;
    map.setAttribute('viewBox', `${fmt(view.x)} ${fmt(view.y)} ${fmt(view.width)} ${fmt(view.height)}`);
    if (shown.circle) {
      const path = element('path', { d: shown.circle.path, class: 'uncertainty', 'fill-rule': 'evenodd' }, result);
      element('title', {}, path).textContent = `uncertainty: ${shown.prediction.uncertainty_km.toFixed(1)} km`;
    }
    const r = view.width / 100;
    // Lowest rank first, so that the best answer is drawn on top.
    for (const c of [...shown.candidates].reverse()) {
      // Beside the best answer across the antimeridian when zoomed in; within the map when it shows the whole world.
      let x = c.x;
      while (x > view.x + view.width) x -= 360;
      while (x < view.x) x += 360;
      const g = element('g', { class: c.location.rank === 1 ? 'candidate top' : 'candidate', 'data-rank': c.location.rank }, result);
      element('circle', { cx: fmt(x), cy: fmt(-c.location.lat), r: fmt(c.location.rank === 1 ? r * 1.35 : r) }, g);
      element('text', { x: fmt(x), y: fmt(-c.location.lat), 'font-size': fmt(r * 1.3) }, g).textContent = String(c.location.rank);
      element('title', {}, g).textContent = `${c.location.rank}. ${placeName(c.location)} (score ${c.location.score.toFixed(3)})`;
    }
    zoom.disabled = false;
    zoom.textContent = wholeWorld ? 'Zoom to the candidates' : 'Show the whole world';
  }

  function placeName(location) {
    if (!location.place) return 'no place known';
    return location.country ? `${location.place}, ${location.country}` : location.place;
  }

  function latLng(lat, lon) {
    return `${Math.abs(lat).toFixed(4)}° ${lat >= 0 ? 'N' : 'S'}, ${Math.abs(lon).toFixed(4)}° ${lon >= 0 ? 'E' : 'W'}`;
  }

  function cell(tr, text, className) {
    const td = tr.insertCell();
    td.textContent = text;
    if (className) td.className = className;
  }

  function show(prediction) {
    const top = prediction.locations[0];
    // Candidates unwrapped around the best one, so that answers across the antimeridian sit side by side.
    const xs = unwrap(prediction.locations.map(l => [l.lon, l.lat]), top.lon);
    const candidates = prediction.locations.map((location, i) => ({ location, x: xs[i][0] }));
    const c = circle(top.lat, top.lon, prediction.uncertainty_km);
    const fitPoints = xs.slice();
    const fit = c && !c.ring ? WORLD_VIEW : fitView(c ? fitPoints.concat(c.ring) : fitPoints);
    shown = { prediction, candidates, circle: c, fit };
    wholeWorld = false;
    render();

    const rows = $('candidates').tBodies[0];
    rows.replaceChildren();
    for (const l of prediction.locations) {
      const tr = rows.insertRow();
      if (l.rank === 1) tr.className = 'top';
      cell(tr, String(l.rank), 'rank');
      cell(tr, placeName(l), 'place');
      cell(tr, l.place_distance_km == null ? '–' : `${l.place_distance_km.toFixed(1)} km`, 'distance');
      cell(tr, latLng(l.lat, l.lon), 'position');
      cell(tr, l.score.toFixed(3), 'score');
      cell(tr, l.s2_cell ?? '–', 's2');
    }
    const mass = Math.round(prediction.uncertainty_mass * 100);
    $('summary').textContent = `Uncertainty: ${prediction.uncertainty_km.toFixed(1)} km around the best answer, holding ${mass}% of the candidates' probability` +
      ` (${prediction.uncertainty_calibrated ? 'calibrated' : 'not calibrated'}); decided by ${prediction.decided_by}.`;
    $('details').hidden = false;
  }

  function clearResult() {
    shown = null;
    render();
    map.setAttribute('viewBox', '-180 -90 360 180');
    $('details').hidden = true;
    zoom.disabled = true;
  }

  async function predict(file) {
    if (!file) return;
    clearResult();
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.src = URL.createObjectURL(file);
    preview.alt = file.name;
    preview.hidden = false;
    status.dataset.photo = file.name; // which photo the status is about
    setStatus('busy', `Locating ${file.name}…`);
    const form = new FormData();
    form.append('photo', file, file.name);
    let response, text;
    try {
      response = await fetch('predict', { method: 'POST', body: form });
      text = await response.text();
    } catch (e) {
      setStatus('error', `The service did not answer (${e.message}).`);
      return;
    }
    let body = null;
    try { body = JSON.parse(text); } catch { /* not JSON: the text itself is shown */ }
    if (!response.ok) {
      const reason = body && typeof body.error === 'string' ? body.error : (text.trim() || response.statusText || 'no reason given');
      setStatus('error', `Error ${response.status}: ${reason.length > 400 ? reason.slice(0, 400) + '…' : reason}`);
      return;
    }
    const prediction = body && Array.isArray(body.predictions) ? body.predictions[0] : null;
    if (!prediction || !Array.isArray(prediction.locations) || prediction.locations.length === 0) {
      setStatus('error', 'The service answered without a location.');
      return;
    }
    show(prediction);
    setStatus('done', `${file.name}: best answer near ${placeName(prediction.locations[0])}.`);
  }

  // For tests in a real browser: the circle's path data for a centre and radius, and drawing a given answer
  // (one prediction of POST predict's JSON) as if the service had sent it.
  window.GeoTokenMap = Object.freeze({ circlePath: (lat, lon, km) => circle(lat, lon, km)?.path ?? null, show });

  input.addEventListener('change', () => predict(input.files[0]));
  drop.addEventListener('dragover', e => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', e => {
    e.preventDefault();
    drop.classList.remove('over');
    predict(e.dataTransfer.files[0]);
  });
  // A photo dropped beside the target must not replace the page.
  window.addEventListener('dragover', e => e.preventDefault());
  window.addEventListener('drop', e => e.preventDefault());
  zoom.addEventListener('click', () => { wholeWorld = !wholeWorld; render(); });

  fetch('world.json')
    .then(r => { if (!r.ok) throw new Error(`GET world.json: ${r.status}`); return r.json(); })
    .then(w => { drawWorld(w.countries); map.dataset.countries = String(w.countries.length); })
    .catch(e => setStatus('error', `The world map did not load (${e.message}).`));
})();
