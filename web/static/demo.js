/*
 * 小二演示商城 · Xiaoer Demo Shop — page behaviour.
 * Identity switcher (visitor / demo shoppers), widget language toggle and a
 * pretend cart. Talks to the widget only through window.Xiaoer.
 */
(function () {
  'use strict';

  var ID_KEY = 'xiaoer-demo.identity';
  var TOKEN_KEY = 'xiaoer-demo.token.'; // + shopper: {"token": ..., "at": ms}
  var TOKEN_REUSE_MS = 6 * 3600 * 1000; // demo tokens live 24 h
  var LANG_KEY = 'xiaoer-demo.lang';
  var NAMES = {
    'visitor': { zh: '访客', en: 'Visitor' },
    'demo-cn': { zh: '林小雨', en: 'Lin Xiaoyu' },
    'demo-en': { zh: 'Emma Clarke', en: 'Emma Clarke' }
  };

  function ssGet(k) { try { return window.sessionStorage.getItem(k); } catch (e) { return null; } }
  function ssSet(k, v) { try { window.sessionStorage.setItem(k, v); } catch (e) { /* ignore */ } }

  function $(id) { return document.getElementById(id); }

  var buttons = {
    'visitor': $('as-visitor'),
    'demo-cn': $('as-demo-cn'),
    'demo-en': $('as-demo-en')
  };
  var statusEl = $('as-status');
  var requestNo = 0;

  function widget() { return window.Xiaoer || null; }

  function setStatus(text, isError) {
    if (!statusEl) return;
    statusEl.textContent = text || '';
    statusEl.classList.toggle('is-error', !!isError);
  }

  function mark(who) {
    Object.keys(buttons).forEach(function (k) {
      var b = buttons[k];
      if (!b) return;
      var on = k === who;
      b.classList.toggle('is-active', on);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
      b.classList.remove('is-loading');
    });
  }

  function choose(who, restoring) {
    var w = widget();
    if (!w || !buttons[who]) return;
    var my = ++requestNo;

    if (who === 'visitor') {
      w.setIdentity(null);
      mark('visitor');
      ssSet(ID_KEY, 'visitor');
      if (!restoring) setStatus('已切换为访客 · Chatting as an anonymous visitor');
      return;
    }

    buttons[who].classList.add('is-loading');
    setStatus('正在获取演示令牌… · Fetching a demo token…');
    fetch('/api/v1/demo/token?shopper=' + encodeURIComponent(who), {
      credentials: 'same-origin',
      headers: { 'Accept': 'application/json' }
    })
      .then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then(function (j) {
        if (my !== requestNo) return; // a newer click won
        if (!j || typeof j.token !== 'string' || !j.token) throw new Error('no token in response');
        w.setIdentity({ token: j.token });
        mark(who);
        ssSet(ID_KEY, who);
        ssSet(TOKEN_KEY + who, JSON.stringify({ token: j.token, at: Date.now() }));
        var n = NAMES[who];
        setStatus('已切换为 ' + n.zh + ' · Now chatting as ' + n.en + ' (signed token)');
      })
      .catch(function (err) {
        if (my !== requestNo) return;
        buttons[who].classList.remove('is-loading');
        setStatus('无法获取演示令牌 · Could not get a demo token (' + (err && err.message ? err.message : 'error') + ')', true);
        if (restoring) {
          mark('visitor');
          ssSet(ID_KEY, 'visitor');
        }
      });
  }

  Object.keys(buttons).forEach(function (who) {
    var b = buttons[who];
    if (!b) return;
    b.addEventListener('click', function () {
      if (b.classList.contains('is-active')) return;
      choose(who, false);
    });
  });

  /* Widget language */

  var langButtons = [$('lang-zh'), $('lang-en')].filter(Boolean);

  function markLang(lang) {
    langButtons.forEach(function (b) {
      var on = b.getAttribute('data-lang') === lang;
      b.classList.toggle('is-active', on);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    });
  }

  // The widget picks its language from the shopper's profile when the page
  // has not chosen one; keep the toggle in step with it.
  window.addEventListener('xiaoer:lang', function (e) {
    if (e.detail && (e.detail.lang === 'zh' || e.detail.lang === 'en')) markLang(e.detail.lang);
  });

  langButtons.forEach(function (b) {
    b.addEventListener('click', function () {
      var lang = b.getAttribute('data-lang');
      var w = widget();
      if (w) w.setLang(lang);
      markLang(lang);
      ssSet(LANG_KEY, lang);
    });
  });

  /* Open the chat from the hero button */

  var ask = $('ask-xiaoer');
  if (ask) {
    ask.addEventListener('click', function () {
      var w = widget();
      if (w) w.open();
    });
  }

  /* A pretend cart, so the page feels like a shop */

  var cartCount = $('cart-count');
  var count = Number(ssGet('xiaoer-demo.cart')) || 0;
  if (cartCount) cartCount.textContent = String(count);
  Array.prototype.forEach.call(document.querySelectorAll('.add'), function (b) {
    var label = b.textContent;
    b.addEventListener('click', function () {
      count++;
      ssSet('xiaoer-demo.cart', String(count));
      if (cartCount) {
        cartCount.textContent = String(count);
        cartCount.classList.remove('cart-bump');
        void cartCount.offsetWidth; // restart the animation
        cartCount.classList.add('cart-bump');
      }
      b.classList.add('is-added');
      b.textContent = '已加入 · Added';
      setTimeout(function () { b.classList.remove('is-added'); b.textContent = label; }, 1400);
    });
  });

  /* Restore choices from this tab's session */

  var savedLang = ssGet(LANG_KEY);
  if (savedLang === 'zh' || savedLang === 'en') {
    if (widget()) widget().setLang(savedLang);
    markLang(savedLang);
  } else if (widget() && widget().getLang) {
    markLang(widget().getLang());
  } else {
    var nav = String(navigator.language || '').toLowerCase();
    markLang(nav.indexOf('zh') === 0 ? 'zh' : 'en');
  }

  // A reload keeps the chosen shopper. With the token of this tab's session
  // the widget connects as that shopper straight away (it starts once the page
  // is parsed), instead of showing the visitor's conversation for a moment.
  function cachedToken(who) {
    try {
      var c = JSON.parse(ssGet(TOKEN_KEY + who) || 'null');
      if (c && typeof c.token === 'string' && c.token && Date.now() - c.at < TOKEN_REUSE_MS) return c.token;
    } catch (e) { /* ignore */ }
    return null;
  }

  var saved = ssGet(ID_KEY);
  if (saved && saved !== 'visitor' && buttons[saved]) {
    var tok = cachedToken(saved);
    if (tok && widget()) {
      widget().setIdentity({ token: tok });
      mark(saved);
    } else {
      choose(saved, true);
    }
  } else {
    mark('visitor');
  }
})();
