/*
 * uspa.js: USPA's first-party browser snippet. Plain ES2017, no build step, no dependencies.
 * The collector serves it at GET /uspa.js.
 *
 * With a script tag (the host defaults to the origin this file was loaded from):
 *   <script src="https://collector.example/uspa.js" data-write-key="KEY"
 *           data-consent-required="false" data-track-clicks="true"></script>
 *   Also read: data-host, data-flush-at, data-flush-interval-ms, and for decide(): data-api-host
 *   (the USPA API's origin) and data-decisions-key (an ApiKey of role decisions: public, origin-locked).
 *
 * Or in code. Calls made before the file loads go into a stub queue as [method, ...args] and run
 * once it has loaded:
 *   window.uspa = window.uspa || [];
 *   ['load', 'page', 'track', 'identify', 'consent', 'reset', 'flush', 'decide'].forEach(function (m) {
 *     uspa[m] = uspa[m] || function () { uspa.push([m].concat([].slice.call(arguments))); };
 *   });
 *   uspa.load({ writeKey: 'KEY', host: 'https://collector.example', consentRequired: true,
 *               apiHost: 'https://api.shop.example', decisionsKey: 'DECISIONS_KEY' });
 *   <script async src="https://collector.example/uspa.js"></script>
 * A stub call cannot return decide()'s Promise: a queued decide runs once the file has loaded, and the
 * page learns its outcome from the uspa:decision event (or calls uspa.decide again after load).
 *
 * API: load(options), page(name?, properties?), track(event, properties?), identify(userId, traits?),
 * consent(granted | { purpose: boolean, … }), reset(), flush() → Promise, anonymousId() → string,
 * decide(placement | [placement, …], { timeout?: ms, render?: boolean }) → Promise (never rejects).
 *
 * decide() asks the API (POST <apiHost>/v1/decisions) which variant each placement shows this visitor,
 * and puts its content into every [data-uspa-placement="<placement>"] element. The element's own HTML
 * is the fallback: it stays on timeout, error, missing consent or a fallback answer. While the answer
 * is pending those elements are hidden (and carry data-uspa-pending), for `timeout` ms at most.
 * Before load() has run, decide() returns a Promise that waits for it.
 *
 * consent({ analytics: true, marketing: false }) states consent per purpose: every event then carries
 * it as context.consent.categoryPreferences (Segment's consent spec), and the change itself is sent
 * as a track "Segment Consent Preference Updated", even when every purpose is refused, so the
 * withdrawal is recorded too. Refusing every purpose then works as consent(false).
 */
// ES2017 has no optional catch binding (`catch {}`), so some catch clauses name an error they ignore.
/* eslint-disable @typescript-eslint/no-unused-vars */
(function () {
  'use strict';

  var VERSION = '0.1.0';
  var DEFAULTS = { writeKey: '', host: '', consentRequired: false, trackClicks: false, flushAt: 20, flushIntervalMs: 2000, apiHost: '', decisionsKey: '' };
  var KEYS = { aid: 'uspa_aid', userId: 'uspa_user_id', traits: 'uspa_traits', queue: 'uspa_queue', consent: 'uspa_consent', purposes: 'uspa_consent_purposes' };
  var CONSENT_UPDATED = 'Segment Consent Preference Updated';
  var COOKIE_MAX_AGE = 365 * 24 * 3600;
  // The collector refuses events over 32 KiB (413). A keepalive fetch or a beacon may carry at
  // most 64 KiB, so a batch stays under 60 KB.
  var MAX_EVENT_BYTES = 32 * 1024 - 512;
  var MAX_BATCH_BYTES = 60 * 1000;
  // Stops a long collector outage from filling localStorage. The oldest events are dropped first.
  var MAX_QUEUE = 1000;
  var MAX_BACKOFF_MS = 60 * 1000;
  // decide(): placement names as the API accepts them, at most 10 per request.
  var PLACEMENT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  var MAX_PLACEMENTS = 10;
  var DECIDE_TIMEOUT = { byDefault: 800, min: 50, max: 10000 };
  var HIDE_STYLE_ID = 'uspa-anti-flicker';

  var existing = window.uspa;
  if (existing && existing.__uspa) return; // The file was included twice, so keep the first copy.
  var stub = Array.isArray(existing) ? existing.slice() : [];

  // document.currentScript is only set while this file first runs, so read it now.
  var script = document.currentScript;
  var scriptOrigin = script && script.src ? new URL(script.src, location.href).origin : location.origin;

  var config = null; // Set by load(). Until then, calls wait in `pending`.
  var pending = [];
  var state = { aid: '', userId: null, traits: {}, consent: null, purposes: null, queue: [] };
  var timer = null;
  var retryAt = 0; // While we back off, reaching flushAt does not force an early retry.
  var attempts = 0;
  var inflight = null; // Only one batch is in flight at a time, so retries stay in order.
  var inflightIds = {};
  var hiding = Object.create(null); // placement → decide() calls waiting for it
  var warnedUnconfigured = false;

  // Storage: localStorage can be missing, full or blocked (private modes, sandboxed iframes).
  // Writing is best effort, and a failure leaves the snippet working from memory.
  function read(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function write(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* memory only */ }
  }
  function remove(key) {
    try { window.localStorage.removeItem(key); } catch (e) { /* nothing to clear */ }
  }
  function readJson(key, fallback) {
    try { var v = JSON.parse(read(key) || 'null'); return v === null ? fallback : v; } catch (e) { return fallback; }
  }
  function readCookie(name) {
    var m = document.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
    try { return m ? decodeURIComponent(m[1]) : null; } catch (e) { return null; }
  }
  function writeCookie(name, value, maxAge) {
    var secure = location.protocol === 'https:' ? '; Secure' : '';
    document.cookie = name + '=' + encodeURIComponent(value) + '; path=/; max-age=' + maxAge + '; SameSite=Lax' + secure;
  }

  function uuid() {
    // randomUUID exists only in secure contexts. Plain-http shops get a v4 built from getRandomValues.
    if (window.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  function isObject(v) {
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  }
  function bytes(text) {
    return new TextEncoder().encode(text).length;
  }

  // Consent: the visitor's "no" always wins. With consentRequired, nothing leaves the browser and
  // nothing is stored until a "yes".
  function allowed() {
    if (state.consent === 'denied') return false;
    return state.consent === 'granted' || !config.consentRequired;
  }

  function persistIdentity() {
    if (!allowed()) return;
    write(KEYS.aid, state.aid);
    // The cookie also survives a cleared localStorage, and the other way round.
    writeCookie(KEYS.aid, state.aid, COOKIE_MAX_AGE);
    if (state.userId) write(KEYS.userId, state.userId); else remove(KEYS.userId);
    if (Object.keys(state.traits).length) write(KEYS.traits, JSON.stringify(state.traits)); else remove(KEYS.traits);
  }
  function persistQueue() {
    if (allowed()) write(KEYS.queue, JSON.stringify(state.queue));
  }

  function pageInfo() {
    return {
      path: location.pathname,
      referrer: document.referrer,
      search: location.search,
      title: document.title,
      // Without the #fragment, because fragments often carry tokens (OAuth implicit flow and others).
      url: location.href.split('#')[0],
    };
  }
  function context() {
    var timezone;
    try { timezone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { timezone = undefined; }
    return {
      library: { name: 'uspa.js', version: VERSION },
      page: pageInfo(),
      userAgent: navigator.userAgent,
      locale: navigator.language,
      screen: { width: window.screen.width, height: window.screen.height },
      timezone: timezone,
    };
  }

  function build(type, fields) {
    var event = { type: type, messageId: uuid(), timestamp: new Date().toISOString(), anonymousId: state.aid, context: context() };
    if (state.userId) event.userId = state.userId;
    if (state.purposes) event.context.consent = { categoryPreferences: Object.assign({}, state.purposes) };
    return Object.assign(event, fields);
  }

  function enqueue(event) {
    if (state.consent === 'denied') return;
    var size;
    try { size = bytes(JSON.stringify(event)); } catch (e) { size = Infinity; } // e.g. circular properties
    if (size > MAX_EVENT_BYTES) {
      // The collector would refuse the whole batch, good events included, so drop this one here.
      console.warn('uspa: dropping "' + (event.event || event.type) + '": it cannot be serialized or is over 32 KiB');
      return;
    }
    state.queue.push(event);
    if (state.queue.length > MAX_QUEUE) state.queue.splice(0, state.queue.length - MAX_QUEUE);
    if (!allowed()) return; // Before consent the queue stays in memory, unsent: consent(true) sends it.
    persistQueue();
    if (state.queue.length >= config.flushAt && Date.now() >= retryAt) flush();
    else schedule(config.flushIntervalMs);
  }

  // Consent per purpose. The decision is stored (as the plain yes/no is) and announced to the collector.
  function statePurposes(preferences) {
    var clean = {};
    Object.keys(preferences).forEach(function (k) { if (typeof preferences[k] === 'boolean') clean[k] = preferences[k]; });
    var any = Object.keys(clean).some(function (k) { return clean[k]; });
    state.purposes = clean;
    write(KEYS.purposes, JSON.stringify(clean));
    var update = build('track', { event: CONSENT_UPDATED, properties: {} });
    if (any) {
      api.consent(true);
      enqueue(update);
      flush();
    } else {
      // Sent once, outside the queue: after it nothing else is, and nothing is kept.
      if (config) send([update]);
      api.consent(false);
    }
  }

  function schedule(ms) {
    if (timer || !state.queue.length) return;
    timer = setTimeout(function () { timer = null; flush(); }, ms);
  }

  // Takes events from the front of the queue until the batch would pass MAX_BATCH_BYTES.
  function takeBatch(events) {
    var batch = [];
    var total = 200; // envelope: sentAt, writeKey, brackets
    for (var i = 0; i < events.length; i++) {
      var size = bytes(JSON.stringify(events[i])) + 1;
      if (batch.length && total + size > MAX_BATCH_BYTES) break;
      batch.push(events[i]);
      total += size;
    }
    return batch;
  }

  function dropSent(batch) {
    var sent = {};
    batch.forEach(function (e) { sent[e.messageId] = true; });
    state.queue = state.queue.filter(function (e) { return !sent[e.messageId]; });
    persistQueue();
  }

  function flush() {
    if (!config || !allowed()) return Promise.resolve();
    if (inflight) return inflight;
    clearTimeout(timer);
    timer = null;
    var batch = takeBatch(state.queue);
    if (!batch.length) return Promise.resolve();
    batch.forEach(function (e) { inflightIds[e.messageId] = true; });
    inflight = send(batch).catch(function (err) { console.error('uspa: flush failed', err); }).then(function () {
      inflight = null;
      inflightIds = {};
      if (Date.now() < retryAt) return;
      if (state.queue.length >= config.flushAt) return flush();
      schedule(config.flushIntervalMs);
    });
    return inflight;
  }

  function send(batch) {
    // Events stay in the (persisted) queue until the collector has them. A reload mid-request can
    // send them again, and the collector stores a messageId once.
    return fetch(config.host + '/v1/batch', {
      method: 'POST',
      keepalive: true, // lets the request finish if the visitor navigates away
      headers: { 'Content-Type': 'application/json', Authorization: 'Basic ' + base64(config.writeKey + ':') },
      body: JSON.stringify({ batch: batch, sentAt: new Date().toISOString() }),
    }).then(function (res) {
      if (res.ok) {
        attempts = 0;
        retryAt = 0;
        dropSent(batch);
        return undefined;
      }
      if (res.status === 429 || res.status >= 500) return backOff(retryAfterMs(res));
      // Other 4xx (bad key, invalid payload): sending the same bytes again cannot succeed.
      attempts = 0;
      retryAt = 0;
      dropSent(batch);
      return res.text().then(function (body) {
        console.warn('uspa: the collector refused a batch of ' + batch.length + ' events (HTTP ' + res.status + '); dropping it. ' + body);
      }, function () { /* body unreadable */ });
    }, function () {
      return backOff(undefined); // network error: offline, DNS, CORS, blocked by an extension
    });
  }

  function backOff(ms) {
    attempts++;
    var delay = ms !== undefined ? ms : Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, attempts - 1));
    retryAt = Date.now() + delay;
    clearTimeout(timer);
    timer = null;
    schedule(delay);
  }

  // Retry-After as seconds or as an HTTP date. A browser can read this header cross-origin only if
  // the collector lists it in Access-Control-Expose-Headers. Without that, we use our own backoff.
  function retryAfterMs(res) {
    if (res.status !== 429) return undefined;
    var value = res.headers.get('Retry-After');
    if (!value) return undefined;
    var ms = /^\d+$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value) - Date.now();
    return isNaN(ms) ? undefined : Math.max(0, ms);
  }

  function base64(text) {
    // btoa takes Latin-1 only, so encode to UTF-8 bytes first.
    return btoa(Array.prototype.map.call(new TextEncoder().encode(text), function (b) { return String.fromCharCode(b); }).join(''));
  }

  // Page hide: the last chance to send. A fetch could be cancelled with the page, but a beacon cannot.
  // A beacon cannot set headers either, so the write key goes in the text/plain body. sendBeacon
  // returning false means the browser's quota is full, so those events stay queued for the next visit.
  // Events in flight are skipped because their keepalive fetch is still running.
  function sendBeacons() {
    if (!config || !allowed() || !navigator.sendBeacon) return;
    var rest = state.queue.filter(function (e) { return !inflightIds[e.messageId]; });
    while (rest.length) {
      var batch = takeBatch(rest);
      var body = JSON.stringify({ batch: batch, sentAt: new Date().toISOString(), writeKey: config.writeKey });
      if (!navigator.sendBeacon(config.host + '/v1/batch', new Blob([body], { type: 'text/plain' }))) break;
      dropSent(batch);
      rest = rest.slice(batch.length);
    }
  }

  function describeClick(el) {
    var link = el.closest('a[href]');
    var isInput = el.tagName === 'INPUT';
    // For an <input>, only button labels count as text. A field's value is what the visitor typed.
    var text = isInput ? (/^(submit|button|reset)$/i.test(el.type) ? el.value : '') : (el.innerText || el.textContent || '');
    var props = { text: text.trim().replace(/\s+/g, ' ').slice(0, 200), id: el.id, classes: Array.prototype.slice.call(el.classList) };
    if (link) props.href = link.href;
    return props;
  }

  function onClick(e) {
    var target = e.target instanceof Element ? e.target : e.target && e.target.parentElement;
    if (!target) return;
    var tagged = target.closest('[data-uspa-event]');
    var el = tagged || target.closest('a[href], button, input[type="submit"], input[type="button"], [role="button"]');
    if (!el) return;
    api.track((tagged && tagged.getAttribute('data-uspa-event')) || 'Element Clicked', describeClick(el));
  }

  // Personalization: decide(placement, options). The page's own HTML in a placement is its fallback,
  // so every way this can fail (timeout, network, consent, bad answer) leaves the page as it was.
  function fallback(name, reason, decisionId) {
    return { placement: name, variant: null, content: null, fallback: true, reason: reason, decisionId: decisionId || null };
  }
  // The caller's shape: one result for a single placement, an object keyed by placement for an array.
  function answer(placement, results) {
    if (!Array.isArray(placement)) return results[String(placement)];
    var out = {};
    placement.forEach(function (p) {
      // defineProperty, so that a name such as "__proto__" stays a key and not the prototype.
      Object.defineProperty(out, String(p), { value: results[String(p)], enumerable: true, writable: true, configurable: true });
    });
    return out;
  }
  function fallbacks(placement, reason) {
    var results = Object.create(null);
    (Array.isArray(placement) ? placement : [placement]).forEach(function (p) { results[String(p)] = fallback(String(p), reason); });
    return answer(placement, results);
  }
  function shortError(err) {
    return String((err && err.message) || err).slice(0, 80);
  }

  function placementElements(name) {
    return Array.prototype.slice.call(document.querySelectorAll('[data-uspa-placement="' + name + '"]'));
  }

  // Anti-flicker: one <style> hides every placement that has a decision pending. A rule by name (not
  // by an attribute set on the elements) also covers elements parsed after decide() was called, as
  // when it runs in <head>. data-uspa-pending marks the elements present, for a page's own styling.
  function setHidden(names, hide) {
    names.forEach(function (n) {
      hiding[n] = (hiding[n] || 0) + (hide ? 1 : -1);
      if (hiding[n] <= 0) delete hiding[n];
      placementElements(n).forEach(function (el) {
        if (hiding[n]) el.setAttribute('data-uspa-pending', ''); else el.removeAttribute('data-uspa-pending');
      });
    });
    var style = document.getElementById(HIDE_STYLE_ID);
    if (!style) {
      style = document.createElement('style');
      style.id = HIDE_STYLE_ID;
      (document.head || document.documentElement).appendChild(style);
    }
    var selectors = Object.keys(hiding).map(function (n) { return '[data-uspa-placement="' + n + '"]'; });
    style.textContent = selectors.length ? selectors.join(',') + '{visibility:hidden!important}' : '';
  }

  // The API's answer, checked field by field: anything unexpected counts as a fallback.
  function readDecisions(body, names) {
    var results = Object.create(null);
    if (!isObject(body) || !isObject(body.placements)) {
      names.forEach(function (n) { results[n] = fallback(n, 'error: invalid response'); });
      return results;
    }
    var decisionId = typeof body.decisionId === 'string' ? body.decisionId : null;
    names.forEach(function (n) {
      var r = Object.prototype.hasOwnProperty.call(body.placements, n) ? body.placements[n] : null;
      if (!isObject(r)) {
        results[n] = fallback(n, 'error: no result for this placement', decisionId);
        return;
      }
      results[n] = {
        placement: n,
        variant: typeof r.variant === 'string' ? r.variant : null,
        content: typeof r.content === 'string' ? r.content : null,
        fallback: r.fallback !== false,
        reason: typeof r.reason === 'string' ? r.reason : '',
        decisionId: decisionId,
      };
    });
    return results;
  }

  // Puts the content in, and returns the uspa:decision events to dispatch once nothing is hidden.
  function render(results) {
    var events = [];
    Object.keys(results).forEach(function (n) {
      var r = results[n];
      if (r.fallback || typeof r.content !== 'string') return;
      placementElements(n).forEach(function (el) {
        el.innerHTML = r.content;
        events.push([el, new CustomEvent('uspa:decision', { bubbles: true, detail: { placement: n, variant: r.variant, decisionId: r.decisionId } })]);
      });
    });
    return events;
  }

  function requestDecisions(names, signal) {
    var page = pageInfo();
    return fetch(config.apiHost + '/v1/decisions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + config.decisionsKey },
      // Always the anonymous id, also once identified: variants are bucketed by this identity, so they
      // stay the same across identify(). The server links it to the user.
      body: JSON.stringify({
        identity: 'anonymousId:' + state.aid,
        placements: names,
        context: { page: { path: page.path, url: page.url, referrer: page.referrer, title: page.title } },
      }),
      signal: signal,
    }).then(function (res) {
      if (res.ok) return res.json().catch(function () { throw decideError('invalid response'); });
      return res.json().then(function (b) { return isObject(b) && isObject(b.error) ? b.error.code : undefined; }, function () { return undefined; })
        .then(function (code) { throw decideError('HTTP ' + res.status + (code ? ' ' + String(code).slice(0, 40) : '')); });
    });
  }
  // An error whose reason is ours to show; any other rejection of fetch is the network's (offline, DNS, CORS).
  function decideError(reason) {
    var err = new Error(reason);
    err.uspaReason = reason;
    return err;
  }

  function decide(placement, options) {
    var opts = isObject(options) ? options : {};
    var results = Object.create(null);
    var names = [];
    (Array.isArray(placement) ? placement : [placement]).forEach(function (p) {
      var n = String(p);
      if (results[n] || names.indexOf(n) >= 0) return;
      if (typeof p !== 'string' || p.length > 63 || !PLACEMENT_NAME.test(p)) {
        console.warn('uspa: decide(): invalid placement name ' + JSON.stringify(n) + ' (lowercase letters, digits and "-", at most 63)');
        results[n] = fallback(n, 'invalid placement');
      } else if (names.length >= MAX_PLACEMENTS) {
        console.warn('uspa: decide(): at most ' + MAX_PLACEMENTS + ' placements per call; "' + n + '" falls back');
        results[n] = fallback(n, 'too many placements');
      } else {
        names.push(n);
      }
    });
    function all(reason) {
      names.forEach(function (n) { results[n] = fallback(n, reason); });
      return Promise.resolve(answer(placement, results));
    }
    if (!names.length) return Promise.resolve(answer(placement, results));
    if (!config.apiHost || !config.decisionsKey) {
      if (!warnedUnconfigured) console.warn('uspa: decide() needs apiHost and decisionsKey (data-api-host, data-decisions-key)');
      warnedUnconfigured = true;
      return all('not configured');
    }
    // A shortcut only: the server also falls back without personalization consent.
    if (!allowed() || (state.purposes && state.purposes.personalization === false)) return all('no consent');

    var timeout = Number(opts.timeout);
    timeout = isNaN(timeout) || opts.timeout === undefined || opts.timeout === null ? DECIDE_TIMEOUT.byDefault : Math.min(DECIDE_TIMEOUT.max, Math.max(DECIDE_TIMEOUT.min, timeout));
    var shouldRender = opts.render !== false;
    return new Promise(function (resolve) {
      var settled = false;
      var controller = typeof AbortController === 'function' ? new AbortController() : null;
      function settle(decided) {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        var events = [];
        try {
          names.forEach(function (n) { results[n] = decided[n]; });
          if (shouldRender) events = render(decided);
        } catch (err) {
          console.error('uspa: decide() could not render', err);
        }
        setHidden(names, false); // whatever happened above, nothing stays hidden
        resolve(answer(placement, results));
        events.forEach(function (e) { e[0].dispatchEvent(e[1]); });
      }
      function failAll(reason) {
        var decided = Object.create(null);
        names.forEach(function (n) { decided[n] = fallback(n, reason); });
        settle(decided);
      }
      // The timer settles on its own, so the page never waits on the abort being honoured.
      var deadline = setTimeout(function () {
        failAll('timeout');
        if (controller) controller.abort();
      }, timeout);
      try {
        setHidden(names, true);
        requestDecisions(names, controller ? controller.signal : undefined).then(function (body) {
          settle(readDecisions(body, names));
        }, function (err) {
          failAll('error: ' + (err && err.uspaReason ? err.uspaReason : 'network'));
        });
      } catch (err) {
        failAll('error: ' + shortError(err));
      }
    });
  }

  function fromScriptTag() {
    var d = (script && script.dataset) || {};
    var out = {};
    if (d.writeKey) out.writeKey = d.writeKey;
    if (d.host) out.host = d.host;
    if (d.consentRequired) out.consentRequired = d.consentRequired === 'true';
    if (d.trackClicks) out.trackClicks = d.trackClicks === 'true';
    if (d.flushAt) out.flushAt = Number(d.flushAt);
    if (d.flushIntervalMs) out.flushIntervalMs = Number(d.flushIntervalMs);
    if (d.apiHost) out.apiHost = d.apiHost;
    if (d.decisionsKey) out.decisionsKey = d.decisionsKey;
    return out;
  }

  function load(options) {
    if (config) return console.warn('uspa: load() was already called; ignoring');
    var c = Object.assign({}, DEFAULTS, fromScriptTag(), options);
    if (!c.writeKey) return console.warn('uspa: no write key; pass data-write-key or uspa.load({ writeKey })');
    c.host = String(c.host || scriptOrigin).replace(/\/+$/, '');
    c.flushAt = Math.max(1, Number(c.flushAt) || DEFAULTS.flushAt);
    c.flushIntervalMs = Math.max(0, Number(c.flushIntervalMs) || DEFAULTS.flushIntervalMs);
    c.apiHost = String(c.apiHost || '').replace(/\/+$/, '');
    c.decisionsKey = String(c.decisionsKey || '');
    config = c;

    state.consent = read(KEYS.consent); // 'granted' | 'denied' | null
    var purposes = readJson(KEYS.purposes, null);
    state.purposes = isObject(purposes) ? purposes : null;
    if (allowed()) {
      state.aid = read(KEYS.aid) || readCookie(KEYS.aid) || uuid();
      state.userId = read(KEYS.userId);
      var traits = readJson(KEYS.traits, {});
      var queue = readJson(KEYS.queue, []); // unsent events from an earlier page
      state.traits = isObject(traits) ? traits : {};
      state.queue = Array.isArray(queue) ? queue.filter(isObject) : [];
      persistIdentity();
    } else {
      state.aid = uuid(); // memory only. It is stored only if consent is given.
    }

    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'hidden') sendBeacons();
    });
    window.addEventListener('pagehide', sendBeacons);
    // Capture phase, so that the page's own stopPropagation() does not hide clicks from us.
    if (c.trackClicks) document.addEventListener('click', onClick, true);

    api.page();
    var calls = pending;
    pending = [];
    calls.forEach(function (call) {
      var result = dispatch(call);
      if (call.resolve) call.resolve(result); // a decide() made before load() gets its answer now
    });
    schedule(config.flushIntervalMs); // also sends a queue restored from storage
    return undefined;
  }

  // Analytics must never break the shop: a public method logs an error instead of throwing it.
  // Until load() has run, calls wait in `pending`.
  function method(name, fn) {
    return function () {
      var args = Array.prototype.slice.call(arguments);
      if (!config && name !== 'load' && name !== 'anonymousId' && name !== 'flush') {
        var call = [name].concat(args);
        if (name === 'decide') {
          // decide() promises an answer, so its Promise waits for load().
          if (pending.length >= MAX_QUEUE) return Promise.resolve(fallbacks(args[0], 'error: too many calls before load'));
          return new Promise(function (resolve) { call.resolve = resolve; pending.push(call); });
        }
        if (pending.length < MAX_QUEUE) pending.push(call);
        return undefined;
      }
      try { return fn.apply(null, args); } catch (err) {
        console.error('uspa: ' + name + ' failed', err);
        return name === 'decide' ? Promise.resolve(fallbacks(args[0], 'error: ' + shortError(err))) : undefined;
      }
    };
  }

  var api = {
    __uspa: VERSION,
    load: method('load', load),
    page: method('page', function (name, properties) {
      if (isObject(name)) { properties = name; name = undefined; }
      var fields = { properties: Object.assign(pageInfo(), isObject(properties) ? properties : {}) };
      if (name) fields.name = String(name);
      enqueue(build('page', fields));
    }),
    track: method('track', function (event, properties) {
      if (!event) return console.warn('uspa: track() needs an event name');
      enqueue(build('track', { event: String(event), properties: isObject(properties) ? properties : {} }));
      return undefined;
    }),
    identify: method('identify', function (userId, traits) {
      if (isObject(userId)) { traits = userId; userId = undefined; }
      if (userId !== undefined && userId !== null && userId !== '') state.userId = String(userId);
      // Traits accumulate, as in Segment, so each identify carries everything known so far.
      state.traits = Object.assign({}, state.traits, isObject(traits) ? traits : {});
      persistIdentity();
      enqueue(build('identify', { traits: state.traits }));
    }),
    consent: method('consent', function (granted) {
      if (isObject(granted)) return statePurposes(granted);
      state.consent = granted ? 'granted' : 'denied';
      write(KEYS.consent, state.consent); // The decision itself is the one thing stored on a "no".
      if (granted) {
        // Events held in memory so far (with this anonymous id) are now stored and sent.
        persistIdentity();
        persistQueue();
        flush();
      } else {
        state.queue = [];
        clearTimeout(timer);
        timer = null;
        [KEYS.aid, KEYS.userId, KEYS.traits, KEYS.queue].forEach(remove);
        writeCookie(KEYS.aid, '', 0);
      }
    }),
    reset: method('reset', function () {
      // Events already queued keep the identity they were made with.
      state.userId = null;
      state.traits = {};
      state.aid = uuid();
      persistIdentity();
    }),
    flush: method('flush', function () {
      retryAt = 0; // An explicit flush does not wait for the backoff.
      return flush();
    }),
    anonymousId: method('anonymousId', function () { return state.aid || null; }),
    decide: method('decide', decide),
    // Lets stub code keep calling uspa.push([method, ...args]) after load.
    push: function (call) { dispatch(call); },
  };

  function dispatch(call) {
    if (!Array.isArray(call) || typeof api[call[0]] !== 'function' || call[0] === 'push') {
      console.warn('uspa: unknown call', call);
      return;
    }
    return api[call[0]].apply(null, call.slice(1));
  }

  window.uspa = api;
  // A load call in the stub queue runs first, merged over the script tag's data-* options, so
  // events queued before it carry the right configuration. The other calls then replay in order.
  var loadCall = stub.filter(function (c) { return Array.isArray(c) && c[0] === 'load'; })[0];
  var tag = fromScriptTag();
  if (loadCall || tag.writeKey) api.load(Object.assign({}, loadCall && loadCall[1]));
  stub.forEach(function (c) { if (c !== loadCall) dispatch(c); });
})();
