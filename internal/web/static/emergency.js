// CareCircle emergency alert: when an alert is raised for any of the
// user's families, every open page shows it full screen with a sound
// (generated with WebAudio) and vibration, and buttons to acknowledge and
// to call. Without JavaScript the red banner and the alert page do the job.
(function () {
  'use strict';
  var user = document.body.getAttribute('data-user');
  if (!user) { return; }
  var modal = null, shownId = null, sound = null, buzz = 0, lastFocus = null;

  // ---- Sound: two alternating tones, repeated until the alert is
  // acknowledged or closed. Browsers may keep audio suspended until the
  // person touches the page; the first touch starts it.
  function startSound() {
    stopSound();
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { return; }
    var ctx;
    try { ctx = new Ctx(); } catch (e) { return; }
    var stopped = false;
    function beep(at, freq) {
      var o = ctx.createOscillator(), g = ctx.createGain();
      o.type = 'square';
      o.frequency.value = freq;
      g.gain.setValueAtTime(0.0001, at);
      g.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, at + 0.35);
      o.connect(g); g.connect(ctx.destination);
      o.start(at); o.stop(at + 0.4);
    }
    function cycle() {
      if (stopped) { return; }
      if (ctx.state === 'running') {
        var t = ctx.currentTime + 0.05;
        beep(t, 880); beep(t + 0.45, 660); beep(t + 0.9, 880);
      }
      sound.timer = setTimeout(cycle, 2000);
    }
    function unlock() { if (ctx.state !== 'running') { ctx.resume().catch(function () {}); } }
    sound = {
      timer: 0,
      stop: function () {
        stopped = true;
        clearTimeout(sound.timer);
        document.removeEventListener('pointerdown', unlock, true);
        document.removeEventListener('keydown', unlock, true);
        ctx.close().catch(function () {});
      }
    };
    document.addEventListener('pointerdown', unlock, true);
    document.addEventListener('keydown', unlock, true);
    unlock();
    cycle();
  }
  function stopSound() {
    if (sound) { sound.stop(); sound = null; }
  }
  // Vibration needs the person to have touched the page once; until then
  // the first touch starts it.
  function startBuzz() {
    if (!navigator.vibrate) { return; }
    var pattern = [600, 250, 600, 250, 600];
    function go() {
      clearInterval(buzz);
      try { navigator.vibrate(pattern); } catch (e) { return; }
      buzz = setInterval(function () { try { navigator.vibrate(pattern); } catch (e) { /* ignore */ } }, 4000);
    }
    if (!navigator.userActivation || navigator.userActivation.hasBeenActive) { go(); return; }
    var later = function () {
      document.removeEventListener('pointerdown', later, true);
      if (modal) { go(); }
    };
    document.addEventListener('pointerdown', later, true);
  }
  function stopBuzz() {
    if (!buzz) { return; }
    clearInterval(buzz);
    buzz = 0;
    try { navigator.vibrate(0); } catch (e) { /* ignore */ }
  }

  // ---- The full-screen alert, built from the server's /alerts/{id} page
  // (which knows the phones to call), or from the event when that fails.
  function open(id, ev) {
    if (shownId === id || location.pathname === '/alerts/' + id) { return; }
    fetch('/alerts/' + encodeURIComponent(id), { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        var card = html && new DOMParser().parseFromString(html, 'text/html').getElementById('alert-detail');
        if (card && card.getAttribute('data-alert-status') === 'RESOLVED') { return; }
        show(id, card ? document.importNode(card, true) : fromEvent(ev));
      })
      .catch(function () { if (ev) { show(id, fromEvent(ev)); } });
  }
  function fromEvent(ev) {
    var d = (ev && ev.data) || {};
    var s = document.createElement('section');
    var h = document.createElement('h1');
    h.textContent = (d.type || 'Emergency') + ' — ' + (d.careRecipientName || '');
    var p = document.createElement('p');
    p.className = 'lead';
    p.textContent = d.description || '';
    var by = document.createElement('p');
    by.textContent = d.triggeredByName ? 'Raised by ' + d.triggeredByName : '';
    var f = document.createElement('form');
    f.method = 'post';
    f.action = '/alerts/' + d.alertId + '/acknowledge';
    f.setAttribute('data-ack', '');
    var b = document.createElement('button');
    b.type = 'submit';
    b.className = 'btn btn-ack';
    b.textContent = 'Acknowledge — I\'ve seen it';
    f.appendChild(b);
    s.append(h, p, by, f);
    return s;
  }
  function show(id, content) {
    close();
    shownId = id;
    lastFocus = document.activeElement;
    modal = document.createElement('div');
    modal.className = 'modal';
    modal.setAttribute('role', 'alertdialog');
    modal.setAttribute('aria-modal', 'true');
    modal.id = 'emergency-modal';
    modal.setAttribute('data-alert', id);
    var inner = document.createElement('div');
    inner.className = 'modal-inner';
    var label = document.createElement('p');
    label.className = 'modal-label';
    label.textContent = 'EMERGENCY';
    content.removeAttribute('id');
    content.removeAttribute('data-live');
    content.className = 'modal-content';
    var heading = content.querySelector('h1');
    if (heading) { heading.id = 'emergency-modal-title'; modal.setAttribute('aria-labelledby', heading.id); }
    var closeBtn = document.createElement('button');
    closeBtn.type = 'button';
    closeBtn.className = 'btn modal-close';
    closeBtn.textContent = 'Close (the alert stays open)';
    closeBtn.addEventListener('click', close);
    inner.append(label, content, closeBtn);
    modal.appendChild(inner);
    document.body.appendChild(modal);
    document.body.classList.add('modal-open');
    var ack = modal.querySelector('[data-ack] button') || modal.querySelector('.btn-call') || closeBtn;
    ack.focus();
    modal.addEventListener('keydown', trap);
    startSound();
    startBuzz();
  }
  function close() {
    stopSound();
    stopBuzz();
    if (!modal) { return; }
    modal.remove();
    modal = null;
    shownId = null;
    document.body.classList.remove('modal-open');
    if (lastFocus && lastFocus.focus) { lastFocus.focus(); }
  }
  // Keyboard: Tab stays inside the alert, Escape closes it.
  function trap(e) {
    if (e.key === 'Escape') { close(); return; }
    if (e.key !== 'Tab') { return; }
    var f = modal.querySelectorAll('a[href], button:not([disabled])');
    if (!f.length) { return; }
    var first = f[0], last = f[f.length - 1];
    if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
  }

  // Acknowledge posts to the API (or, without it, falls back to the form),
  // renewing an expired session once.
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.hasAttribute || !form.hasAttribute('data-ack')) { return; }
    e.preventDefault();
    var id = (form.getAttribute('action').match(/\/alerts\/([^/]+)\/acknowledge/) || [])[1];
    var btn = form.querySelector('button');
    if (btn) { btn.disabled = true; btn.textContent = 'Acknowledging…'; }
    function post() {
      return fetch('/api/v1/emergency/alerts/' + encodeURIComponent(id) + '/acknowledge',
        { method: 'POST', credentials: 'same-origin', headers: { 'Accept': 'application/json' } });
    }
    post().then(function (r) {
      if (r.status !== 401) { return r; }
      return fetch('/session', { credentials: 'same-origin', cache: 'no-store' }).then(post);
    }).then(function (r) {
      if (!r.ok && r.status !== 409) { throw new Error('acknowledge failed: ' + r.status); }
      if (modal && shownId === id) { close(); }
      var banner = document.querySelector('[data-alert="' + id + '"][data-alert-unacked]');
      if (banner) { banner.removeAttribute('data-alert-unacked'); }
      if (window.ccLive) { window.ccLive.refresh(0); }
      if (location.pathname === '/alerts/' + id) { location.reload(); }
    }).catch(function () { form.submit(); });
  });

  function onEvent(ev, me) {
    var d = ev.data || {};
    if (ev.type === 'emergency.alert.created') {
      if (d.actorId !== me && d.alertId) { open(d.alertId, ev); }
    } else if (ev.type === 'emergency.alert.resolved' || (ev.type === 'emergency.alert.acknowledged' && d.actorId === me)) {
      if (shownId && shownId === d.alertId) { close(); }
    }
  }
  window.ccEmergency = { onEvent: onEvent, open: open };

  // An alert raised while this page was closed opens when it loads, unless
  // the user already acknowledged it or raised it themself.
  var pending = document.querySelector('.alert-banner [data-alert-unacked]');
  if (pending && pending.getAttribute('data-alert-by') !== user) { open(pending.getAttribute('data-alert')); }
}());
