/*
 * Xiaoer (小二) customer-service chat widget.
 *
 * Plain JavaScript, no dependencies, no build step. Embed with:
 *   <script src="https://shop-support.example/widget.js"
 *           data-server="https://shop-support.example"   (optional, defaults to widget.js origin)
 *           data-token="<signed shopper token>"          (optional)
 *           data-lang="auto|zh|en"                       (optional, default auto)
 *           data-open="true"></script>                   (optional)
 *
 * API: window.Xiaoer.open(), .close(), .setIdentity({token}|null), .setLang('zh'|'en'), .getLang()
 * Events: window receives "xiaoer:lang" (detail.lang) when the widget's language changes.
 *
 * Server data is only ever inserted with textContent, or, for bot answers, as
 * elements built one by one from a small Markdown subset (mdBlock); never as
 * HTML.
 */
(function () {
  'use strict';

  if (window.Xiaoer && window.Xiaoer._xiaoer) return; // loaded twice

  var MAX_LEN = 2000;
  var COUNTER_AT = 1800;
  var TYPING_TIMEOUT = 30000;
  var ACK_TIMEOUT = 20000;
  var AWAIT_REPLY_MS = 5 * 60 * 1000; // how long an unanswered stored message is sent again on reconnect
  var NS = 'xiaoer.';

  /* ------------------------------------------------------------------ */
  /* Script tag, server and stylesheet                                   */
  /* ------------------------------------------------------------------ */

  var script = document.currentScript || (function () {
    var all = document.getElementsByTagName('script');
    for (var i = all.length - 1; i >= 0; i--) {
      if (/\/widget\.js(?:[?#]|$)/.test(all[i].src || '')) return all[i];
    }
    return null;
  })();

  function attr(name) {
    return script ? script.getAttribute(name) : null;
  }

  var scriptSrc = (script && script.src) || (location.origin + '/widget.js');
  var serverURL;
  try {
    serverURL = new URL(attr('data-server') || new URL(scriptSrc, location.href).origin, location.href);
  } catch (e) {
    serverURL = new URL(location.href);
    serverURL.pathname = '/';
  }

  var cssReady = false;
  (function injectCSS() {
    var href;
    try { href = new URL('widget.css', scriptSrc).href; } catch (e) { href = '/widget.css'; }
    var links = document.querySelectorAll('link[rel="stylesheet"]');
    for (var i = 0; i < links.length; i++) {
      if (links[i].href === href) { cssReady = true; return; }
    }
    var link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = href;
    link.setAttribute('data-xiaoer', '');
    link.onload = link.onerror = function () { cssReady = true; reveal(); };
    (document.head || document.documentElement).appendChild(link);
    setTimeout(function () { cssReady = true; reveal(); }, 2500);
  })();

  /* ------------------------------------------------------------------ */
  /* Storage helpers (storage can throw in private mode / iframes)       */
  /* ------------------------------------------------------------------ */

  function lsGet(k) { try { return window.localStorage.getItem(k); } catch (e) { return null; } }
  function lsSet(k, v) { try { window.localStorage.setItem(k, v); } catch (e) { /* ignore */ } }
  function ssGet(k) { try { return window.sessionStorage.getItem(k); } catch (e) { return null; } }
  function ssSet(k, v) { try { window.sessionStorage.setItem(k, v); } catch (e) { /* ignore */ } }

  function uuid() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === 'function') {
      try { return c.randomUUID(); } catch (e) { /* insecure context */ }
    }
    var b = new Uint8Array(16);
    if (c && c.getRandomValues) {
      c.getRandomValues(b);
    } else {
      for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = '';
    for (var j = 0; j < 16; j++) {
      h += (b[j] + 0x100).toString(16).slice(1);
      if (j === 3 || j === 5 || j === 7 || j === 9) h += '-';
    }
    return h;
  }

  function fnv(s) {
    var h = 0x811c9dc5;
    for (var i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h.toString(16);
  }

  /* Best effort: read a shopper id from a "payload.signature" style token
   * so that the stored conversation can be resumed before hello arrives. */
  function shopperFromToken(tok) {
    var parts = String(tok).split('.');
    for (var i = 0; i < parts.length; i++) {
      try {
        var s = parts[i].replace(/-/g, '+').replace(/_/g, '/');
        while (s.length % 4) s += '=';
        var bin = atob(s);
        var bytes = new Uint8Array(bin.length);
        for (var j = 0; j < bin.length; j++) bytes[j] = bin.charCodeAt(j);
        var o = JSON.parse(new TextDecoder().decode(bytes));
        if (!o || typeof o !== 'object') continue;
        var v = o.shopper_id || o.shopper || o.sub || o.sid;
        if (v && typeof v === 'object') v = v.id;
        if (typeof v === 'string' && v) return v;
      } catch (e) { /* not decodable */ }
    }
    return null;
  }

  /* ------------------------------------------------------------------ */
  /* i18n                                                                */
  /* ------------------------------------------------------------------ */

  var I18N = {
    zh: {
      title: '小二客服',
      ai: 'AI',
      toHuman: '人工客服',
      toHumanTitle: '转接人工客服',
      botName: '小二',
      close: '关闭',
      launcher: '联系客服',
      placeholder: '请输入您的问题…',
      send: '发送',
      online: '在线 · 通常秒回',
      connecting: '连接中…',
      reconnecting: '重新连接中…',
      greeting: '您好，我是小二，有什么可以帮您？',
      greetingNamed: '{name}，您好！我是小二，有什么可以帮您？',
      chip0: '我的订单到哪了？',
      chip1: '怎么申请退货？',
      chip2: '运费怎么算？',
      source: '来源：',
      sending: '发送中…',
      waiting: '等待连接，恢复后自动发送',
      failed: '发送失败',
      retry: '重试',
      helpful: '有帮助',
      notHelpful: '没帮助',
      thanks: '感谢反馈',
      orderNo: '订单',
      items: '商品',
      moreItems: '另有 {n} 件商品',
      total: '合计',
      carrier: '物流',
      trackingNo: '运单号',
      copy: '复制',
      copied: '已复制',
      latest: '最新动态',
      eta: '预计送达',
      placed: '下单时间',
      returnUntil: '可退货至',
      hQueued: '正在为您转接人工客服，您当前排在第 {n} 位，请稍候。',
      hQueuedNoPos: '正在为您转接人工客服，请稍候。',
      hAssigned: '人工客服已接入，请继续描述您的问题。',
      hClosed: '人工服务已结束，感谢您的耐心。',
      hOffline: '当前暂无人工客服在线，请直接留言，我们会尽快回复您。',
      errGeneric: '出错了，请稍后再试。',
      errBusy: '小二正忙，请稍后点“重试”再发一次。',
      errTooLong: '消息太长了，请分几条发送。',
      counter: '{n}/{max}',
      rateTitle: '请为本次人工服务评分',
      rateComment: '还有什么想告诉我们的？（选填）',
      rateSubmit: '提交评价',
      rateThanks: '感谢您的评价！',
      star: '{n} 星',
      disclaimer: 'AI 回答仅供参考，以订单页信息为准',
      newMessages: '条新消息',
      typingBot: '小二正在输入…',
      typingAgent: '客服正在输入…',
      returnTitle: '退货申请 · 订单',
      returnWindow: '可在 {date} 前申请',
      returnReason: '原因',
      returnConfirm: '确认退货',
      returnCancel: '取消',
      returnHint: '确认后才会提交退货申请',
      returnSubmitting: '正在提交…',
      returnCancelling: '正在取消…',
      returnSubmitted: '已提交，退货单号 {no}',
      returnSubmittedNoId: '已提交退货申请',
      returnCancelled: '已取消',
      returnProposed: '待确认',
      returnConfirmed: '已提交',
      aiLabel: 'AI 助手',
      agentLabel: '人工客服',
      hTicket: '已收到您的留言，客服会尽快回复您。',
      barQueued: '您前面还有 {ahead} 位',
      barNext: '下一位就是您',
      barQueuedNoPos: '正在排队，请稍候',
      barEta: '预计等待约 {m} 分钟',
      barAssigned: '与 {agent} 对话中',
      barAssignedNoName: '人工客服对话中',
      leaveTitle: '给人工客服留言',
      leaveText: '请描述您的问题，客服上线后会尽快回复',
      leaveVia: '回复方式',
      viaChat: '在此对话中回复',
      viaEmail: '电子邮件',
      viaPhone: '电话',
      leaveEmail: '您的邮箱地址',
      leavePhone: '您的电话号码',
      leaveSubmit: '提交留言',
      leaveSending: '提交中…',
      leaveNeedText: '请填写留言内容',
      leaveBadEmail: '请填写有效的邮箱地址',
      leaveBadPhone: '请填写有效的电话号码（5–20 位数字）',
      prechatAsk: '问 AI 助手',
      prechatHuman: '找人工客服',
      menu: '菜单：隐私与数据',
      menuTitle: '隐私与我的数据',
      pzTitle: '个性化回复',
      pzHelp: '开启后，AI 助手会参考您的资料和购买记录来回答和推荐商品；随时可以关闭。',
      download: '下载我的数据',
      downloading: '正在准备…',
      downloaded: '已下载您的数据。',
      deleteData: '删除我的数据',
      deleteAsk: '将删除您的全部聊天记录和个人资料，无法恢复。法律要求保存的订单和退货记录会被封存、不再显示。确定删除吗？',
      deleteYes: '确认删除',
      deleteNo: '取消',
      deleting: '正在删除…',
      deleted: '您的数据已删除。',
      privacyFailed: '操作失败，请稍后再试。',
      productPrice: '价格',
      productCategory: '类别',
      productWhy: '推荐理由'
    },
    en: {
      title: 'Xiaoer',
      ai: 'AI',
      toHuman: 'Human agent',
      toHumanTitle: 'Talk to a human agent',
      botName: 'Xiaoer',
      close: 'Close',
      launcher: 'Chat with us',
      placeholder: 'Type your question…',
      send: 'Send',
      online: 'Online now',
      connecting: 'Connecting…',
      reconnecting: 'Reconnecting…',
      greeting: 'Hi, I\u2019m Xiaoer. How can I help?',
      greetingNamed: 'Hi {name}, I\u2019m Xiaoer. How can I help?',
      chip0: 'Where is my order?',
      chip1: 'How do I return an item?',
      chip2: 'How much is shipping?',
      source: 'Source:',
      sending: 'Sending…',
      waiting: 'Offline \u2014 will send when reconnected',
      failed: 'Not sent',
      retry: 'Retry',
      helpful: 'Helpful',
      notHelpful: 'Not helpful',
      thanks: 'Thanks for the feedback',
      orderNo: 'Order',
      items: 'Items',
      moreItems: '+{n} more',
      total: 'Total',
      carrier: 'Carrier',
      trackingNo: 'Tracking no.',
      copy: 'Copy',
      copied: 'Copied',
      latest: 'Latest update',
      eta: 'Estimated delivery',
      placed: 'Placed',
      returnUntil: 'Returns until',
      hQueued: 'Connecting you to a person. You are number {n} in the queue.',
      hQueuedNoPos: 'Connecting you to a person, please wait.',
      hAssigned: 'A customer service agent has joined the chat.',
      hClosed: 'The chat with our agent has ended. Thank you for your patience.',
      hOffline: 'No agent is online right now. Leave a message and we\u2019ll get back to you soon.',
      errGeneric: 'Something went wrong. Please try again.',
      errBusy: 'The assistant is busy. Please tap “Retry” in a moment.',
      errTooLong: 'That message is too long. Please send it in parts.',
      counter: '{n}/{max}',
      rateTitle: 'How did our agent do?',
      rateComment: 'Anything else you\u2019d like to tell us? (optional)',
      rateSubmit: 'Submit',
      rateThanks: 'Thanks for your rating!',
      star: '{n} star',
      disclaimer: 'AI answers may be imperfect; your order page is authoritative',
      newMessages: 'new messages',
      typingBot: 'Xiaoer is typing…',
      typingAgent: 'An agent is typing…',
      returnTitle: 'Return · Order',
      returnWindow: 'Return window ends {date}',
      returnReason: 'Reason',
      returnConfirm: 'Confirm return',
      returnCancel: 'Cancel',
      returnHint: 'Nothing is submitted until you confirm',
      returnSubmitting: 'Submitting…',
      returnCancelling: 'Cancelling…',
      returnSubmitted: 'Submitted, return no. {no}',
      returnSubmittedNoId: 'Return submitted',
      returnCancelled: 'Cancelled',
      returnProposed: 'Awaiting confirmation',
      returnConfirmed: 'Submitted',
      aiLabel: 'AI assistant',
      agentLabel: 'Agent',
      hTicket: 'We have your message. An agent will get back to you soon.',
      barQueued: 'You are number {pos} in the queue',
      barNext: 'You are next in the queue',
      barQueuedNoPos: 'Waiting in the queue',
      barEta: 'about {m} min',
      barAssigned: 'Chatting with {agent}',
      barAssignedNoName: 'Chatting with an agent',
      leaveTitle: 'Leave a message for our team',
      leaveText: 'Describe your question and an agent will answer as soon as possible',
      leaveVia: 'Reply by',
      viaChat: 'Reply here in the chat',
      viaEmail: 'E-mail',
      viaPhone: 'Phone',
      leaveEmail: 'Your e-mail address',
      leavePhone: 'Your phone number',
      leaveSubmit: 'Send message',
      leaveSending: 'Sending…',
      leaveNeedText: 'Please write your message',
      leaveBadEmail: 'Please enter a valid e-mail address',
      leaveBadPhone: 'Please enter a valid phone number (5 to 20 digits)',
      prechatAsk: 'Ask the assistant',
      prechatHuman: 'Talk to a person',
      menu: 'Menu: privacy and data',
      menuTitle: 'Privacy and my data',
      pzTitle: 'Personalised replies',
      pzHelp: 'When on, the AI assistant uses your profile and order history to answer and suggest products; you can turn it off at any time.',
      download: 'Download my data',
      downloading: 'Preparing…',
      downloaded: 'Your data was downloaded.',
      deleteData: 'Delete my data',
      deleteAsk: 'This deletes all your chats and your profile for good. Orders and returns the law makes the shop keep are sealed and no longer shown. Delete?',
      deleteYes: 'Delete',
      deleteNo: 'Cancel',
      deleting: 'Deleting…',
      deleted: 'Your data has been deleted.',
      privacyFailed: 'That did not work. Please try again later.',
      productPrice: 'Price',
      productCategory: 'Category',
      productWhy: 'Why'
    }
  };

  function normLang(l) {
    l = String(l || '').toLowerCase();
    if (l === 'zh' || l.indexOf('zh-') === 0 || l.indexOf('zh_') === 0) return 'zh';
    if (l === 'en' || l.indexOf('en-') === 0 || l.indexOf('en_') === 0) return 'en';
    return null;
  }

  // The language the page asked for with data-lang="zh|en", or null for
  // "auto": then the server decides (the shopper's profile, else the
  // browser's Accept-Language) and hello tells the widget.
  var attrLang = normLang(attr('data-lang'));

  function detectLang() {
    if (attrLang) return attrLang;
    var langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
    for (var i = 0; i < langs.length; i++) {
      var m = normLang(langs[i]);
      if (m) return m;
    }
    return 'en';
  }

  function t(key, params) {
    var dict = I18N[S.lang] || I18N.en;
    var s = dict[key];
    if (s == null) s = I18N.en[key];
    if (s == null) s = key;
    if (params) {
      s = s.replace(/\{(\w+)\}/g, function (m, k) {
        return params[k] != null ? String(params[k]) : m;
      });
    }
    return s;
  }

  /* ------------------------------------------------------------------ */
  /* State                                                               */
  /* ------------------------------------------------------------------ */

  var visitor = lsGet(NS + 'visitor');
  if (!visitor || !/^[A-Za-z0-9_-]{8,64}$/.test(visitor)) {
    visitor = uuid();
    lsSet(NS + 'visitor', visitor);
  }

  var S = {
    lang: detectLang(),
    langExplicit: !!attrLang, // data-lang or setLang: sent to the server
    token: attr('data-token') || null,
    shopper: null,
    conv: null,
    ws: null,
    gen: 0,
    connected: false,
    everConnected: false,
    started: false,
    attempts: 0,
    retryTimer: null,
    highestSeq: 0,
    liveAfter: 0,
    byId: {},
    bySeq: {},
    pending: {},   // client_id -> {cid, text, el, state, timer}
    // Stored (acknowledged) messages the bot has not answered yet:
    // client_id -> {text, at}. If the server went down between the ack and
    // the reply, they are sent again after reconnecting; the server stores
    // each client_id once and answers it only if no reply is stored.
    awaiting: {},
    order: [],     // client_ids in send order
    ctrlQueue: [], // control frames waiting for a connection
    handoff: null,      // null (with the bot), 'requested', or the last handoff status
    hinfo: null,        // {position, eta, agent} of the last handoff frame
    handoffTold: false, // the server just said how a handoff went (onMessage)
    leave: null,        // the leave-a-message form: {form, cid (while sent), ...}
    typingSent: 0,      // when the shopper's typing was last sent (ms)
    prechatEl: null,    // the pre-chat choice, while shown
    prechatDone: false,
    isOpen: false,
    unread: 0,
    typingTimer: null,
    streams: {},   // message id -> bubble of a bot reply still being streamed (delta frames)
    streamNext: {}, // message id -> the chunk number (delta n) expected next; -1 after a gap
    returns: {},   // proposal_id -> {cards: [elements], final: card data|null, pending: bool}
    greetingEl: null,
    built: false,
    wantOpen: false
  };

  // ratedGiven maps the ids of rating prompts (bot messages with a rating
  // card) to the score given, so a reload shows thanks instead of stars.
  var ratedGiven = (function () {
    try { return JSON.parse(lsGet(NS + 'rated') || '{}') || {}; } catch (e) { return {}; }
  })();

  function saveRated(id, score) {
    if (!id) return;
    ratedGiven[id] = score;
    var keys = Object.keys(ratedGiven);
    if (keys.length > 100) {
      for (var i = 0; i < keys.length - 100; i++) delete ratedGiven[keys[i]];
    }
    lsSet(NS + 'rated', JSON.stringify(ratedGiven));
  }

  var feedbackGiven = (function () {
    try { return JSON.parse(lsGet(NS + 'feedback') || '{}') || {}; } catch (e) { return {}; }
  })();

  function saveFeedback(id, helpful) {
    feedbackGiven[id] = helpful ? 1 : 0;
    var keys = Object.keys(feedbackGiven);
    if (keys.length > 300) {
      for (var i = 0; i < keys.length - 300; i++) delete feedbackGiven[keys[i]];
    }
    lsSet(NS + 'feedback', JSON.stringify(feedbackGiven));
  }

  /* ------------------------------------------------------------------ */
  /* DOM helpers                                                         */
  /* ------------------------------------------------------------------ */

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }

  // Element whose text follows the current language.
  function tEl(tag, cls, key, params) {
    var e = el(tag, cls);
    e.setAttribute('data-xi18n', key);
    if (params) e.setAttribute('data-xi18n-p', JSON.stringify(params));
    e.textContent = t(key, params);
    return e;
  }

  function setTitle(e, key) {
    e.setAttribute('data-xi18n-title', key);
    e.setAttribute('title', t(key));
    e.setAttribute('aria-label', t(key));
  }

  function button(cls, key) {
    var b = el('button', cls);
    b.type = 'button';
    if (key) setTitle(b, key);
    return b;
  }

  // Static, trusted icon markup only (never server data).
  var ICONS = {
    chat: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3C6.9 3 3 6.6 3 11c0 2.4 1.2 4.6 3.1 6.1L5.5 21l4.1-2.3c.8.2 1.6.3 2.4.3 5.1 0 9-3.6 9-8s-3.9-8-9-8z" fill="currentColor"/><circle cx="8.5" cy="11" r="1.2" fill="#fff"/><circle cx="12" cy="11" r="1.2" fill="#fff"/><circle cx="15.5" cy="11" r="1.2" fill="#fff"/></svg>',
    close: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" fill="none"/></svg>',
    minimize: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 9l6 6 6-6" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round" fill="none"/></svg>',
    send: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M3.4 20.4l17.4-7.5a1 1 0 000-1.8L3.4 3.6a.9.9 0 00-1.3 1l1.7 6.1 9.2 1.3-9.2 1.3-1.7 6.1a.9.9 0 001.3 1z" fill="currentColor"/></svg>',
    headset: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3a8 8 0 00-8 8v5a2 2 0 002 2h2v-6H6v-1a6 6 0 0112 0v1h-2v6h2v1a1 1 0 01-1 1h-4v2h4a3 3 0 003-3v-8a8 8 0 00-8-8z" fill="currentColor"/></svg>',
    person: '<svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="8" r="4" fill="currentColor"/><path d="M4 20c0-4 3.6-6 8-6s8 2 8 6" fill="currentColor"/></svg>',
    up: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M7 10v10H4V10h3zm2 10V10l4.2-7c1.2 0 2.1 1 1.9 2.2L14.6 9H19a2 2 0 012 2.3l-1.3 7A2 2 0 0117.7 20H9z" fill="currentColor"/></svg>',
    down: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M7 14V4H4v10h3zm2-10v10l4.2 7c1.2 0 2.1-1 1.9-2.2L14.6 15H19a2 2 0 002-2.3l-1.3-7A2 2 0 0017.7 4H9z" fill="currentColor"/></svg>',
    box: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 2l9 5v10l-9 5-9-5V7l9-5zm0 2.3L5.6 7.8 12 11.3l6.4-3.5L12 4.3zM5 9.5v6.3l6 3.3v-6.3L5 9.5zm14 0l-6 3.3v6.3l6-3.3V9.5z" fill="currentColor"/></svg>',
    retry: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M17.7 6.3A8 8 0 1020 12h-2a6 6 0 11-1.8-4.2L13 11h7V4l-2.3 2.3z" fill="currentColor"/></svg>',
    alert: '<svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="10" fill="currentColor"/><path d="M12 7v6M12 16.5v.5" stroke="#fff" stroke-width="2.2" stroke-linecap="round"/></svg>',
    star: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 2.8l2.8 5.9 6.4.8-4.7 4.4 1.2 6.4L12 17.2l-5.7 3.1 1.2-6.4-4.7-4.4 6.4-.8z" fill="currentColor"/></svg>'
  };

  function icon(name, cls) {
    var s = el('span', 'xiaoer-icon' + (cls ? ' ' + cls : ''));
    s.innerHTML = ICONS[name]; // constant markup
    return s;
  }

  function fmtTime(s, withDate) {
    if (!s) return '';
    var d = new Date(s);
    if (isNaN(d.getTime())) return String(s);
    var now = new Date();
    var sameDay = d.toDateString() === now.toDateString();
    var locale = S.lang === 'zh' ? 'zh-CN' : 'en-US';
    var opts = { hour: '2-digit', minute: '2-digit', hour12: false };
    if (withDate || !sameDay) { opts.month = S.lang === 'zh' ? 'numeric' : 'short'; opts.day = 'numeric'; }
    try { return new Intl.DateTimeFormat(locale, opts).format(d); } catch (e) { return d.toLocaleString(); }
  }

  function fmtDate(s) {
    if (!s) return '';
    s = String(s);
    if (s.indexOf('T') < 0) return s; // plain date or free text, show as given
    return fmtTime(s, true);
  }

  /* ------------------------------------------------------------------ */
  /* Build the widget                                                    */
  /* ------------------------------------------------------------------ */

  var R = {}; // element references

  function build() {
    if (S.built) return;
    if (!document.body) return;
    S.built = true;

    var root = el('div', 'xiaoer-root');
    root.id = 'xiaoer-root';
    if (!cssReady) root.classList.add('xiaoer-loading');
    R.root = root;

    /* launcher */
    var launcher = button('xiaoer-launcher', 'launcher');
    launcher.id = 'xiaoer-launcher';
    launcher.setAttribute('aria-controls', 'xiaoer-panel');
    launcher.setAttribute('aria-expanded', 'false');
    launcher.appendChild(icon('chat', 'xiaoer-launcher-open'));
    launcher.appendChild(icon('minimize', 'xiaoer-launcher-close'));
    var unread = el('span', 'xiaoer-unread');
    unread.setAttribute('aria-hidden', 'true');
    launcher.appendChild(unread);
    R.launcher = launcher;
    R.unread = unread;
    launcher.addEventListener('click', function () { if (S.isOpen) api.close(); else api.open(); });

    /* panel */
    var panel = el('div', 'xiaoer-panel');
    panel.id = 'xiaoer-panel';
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-hidden', 'true');
    panel.setAttribute('data-xi18n-title', 'title');
    panel.setAttribute('aria-label', t('title'));
    R.panel = panel;

    var header = el('div', 'xiaoer-header');
    var avatar = el('div', 'xiaoer-avatar xiaoer-avatar-lg', '二');
    avatar.setAttribute('aria-hidden', 'true');
    var titles = el('div', 'xiaoer-titles');
    var titleRow = el('div', 'xiaoer-title-row');
    titleRow.appendChild(tEl('span', 'xiaoer-title', 'title'));
    titleRow.appendChild(tEl('span', 'xiaoer-ai-label', 'ai'));
    var conn = el('div', 'xiaoer-conn xiaoer-conn-idle');
    conn.appendChild(el('span', 'xiaoer-conn-dot'));
    R.connText = tEl('span', 'xiaoer-conn-text', 'online');
    conn.appendChild(R.connText);
    conn.setAttribute('aria-live', 'polite');
    R.conn = conn;
    titles.appendChild(titleRow);
    titles.appendChild(conn);

    var humanBtn = button('xiaoer-human', 'toHumanTitle');
    humanBtn.appendChild(icon('headset'));
    humanBtn.appendChild(tEl('span', 'xiaoer-human-text', 'toHuman'));
    humanBtn.addEventListener('click', requestHuman);
    R.human = humanBtn;

    // The privacy menu, for verified shoppers only (updateMenu).
    var menuBtn = button('xiaoer-menu-btn', 'menu');
    menuBtn.textContent = '\u2630';
    menuBtn.hidden = true;
    menuBtn.setAttribute('aria-expanded', 'false');
    menuBtn.setAttribute('aria-controls', 'xiaoer-menu');
    menuBtn.addEventListener('click', function () { toggleMenu(); });
    R.menuBtn = menuBtn;

    var closeBtn = button('xiaoer-close', 'close');
    closeBtn.appendChild(icon('close'));
    closeBtn.addEventListener('click', function () { api.close(); });

    header.appendChild(avatar);
    header.appendChild(titles);
    header.appendChild(humanBtn);
    header.appendChild(menuBtn);
    header.appendChild(closeBtn);

    // The handoff bar: where a request for a person stands (renderHandoffBar).
    var hbar = el('div', 'xiaoer-hbar');
    hbar.setAttribute('role', 'status');
    hbar.hidden = true;
    hbar.appendChild(icon('headset'));
    R.hbarMain = el('span', 'xiaoer-hbar-main');
    R.hbarEta = el('span', 'xiaoer-hbar-eta');
    hbar.appendChild(R.hbarMain);
    hbar.appendChild(R.hbarEta);
    R.hbar = hbar;

    var messages = el('div', 'xiaoer-messages');
    messages.setAttribute('role', 'log');
    messages.setAttribute('aria-live', 'polite');
    var list = el('div', 'xiaoer-list');
    // The indicator is hidden (display: none) unless on; its label is read,
    // the avatar and the animated dots are not.
    var typing = el('div', 'xiaoer-typing');
    var typingAvatar = el('div', 'xiaoer-avatar', '二');
    typingAvatar.setAttribute('aria-hidden', 'true');
    var dots = el('div', 'xiaoer-typing-dots');
    dots.setAttribute('aria-hidden', 'true');
    dots.appendChild(el('span', 'xiaoer-dot'));
    dots.appendChild(el('span', 'xiaoer-dot'));
    dots.appendChild(el('span', 'xiaoer-dot'));
    var typingLabel = tEl('span', 'xiaoer-sr xiaoer-typing-label', 'typingBot');
    typing.appendChild(typingAvatar);
    typing.appendChild(dots);
    typing.appendChild(typingLabel);
    R.typingLabel = typingLabel;
    messages.appendChild(list);
    messages.appendChild(typing);
    R.messages = messages;
    R.list = list;
    R.typing = typing;
    R.typingAvatar = typingAvatar;

    var composer = el('div', 'xiaoer-composer');
    var box = el('div', 'xiaoer-inputbox');
    var input = el('textarea', 'xiaoer-input');
    input.id = 'xiaoer-input';
    input.rows = 1;
    input.maxLength = MAX_LEN;
    input.setAttribute('data-xi18n-ph', 'placeholder');
    input.placeholder = t('placeholder');
    input.setAttribute('aria-label', t('placeholder'));
    input.setAttribute('autocomplete', 'off');
    var send = button('xiaoer-send', 'send');
    send.id = 'xiaoer-send';
    send.appendChild(icon('send'));
    box.appendChild(input);
    box.appendChild(send);
    var foot = el('div', 'xiaoer-composer-foot');
    foot.appendChild(tEl('span', 'xiaoer-disclaimer', 'disclaimer'));
    var counter = el('span', 'xiaoer-counter');
    counter.setAttribute('aria-live', 'polite');
    foot.appendChild(counter);
    composer.appendChild(box);
    composer.appendChild(foot);
    R.input = input;
    R.send = send;
    R.counter = counter;

    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submitInput();
      }
    });
    input.addEventListener('input', function () { onInput(); noteTyping(); });
    send.addEventListener('click', function () { submitInput(); input.focus(); });

    panel.appendChild(header);
    panel.appendChild(buildMenu());
    panel.appendChild(hbar);
    panel.appendChild(messages);
    panel.appendChild(composer);
    panel.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') { api.close(); R.launcher.focus(); }
    });

    root.appendChild(panel);
    root.appendChild(launcher);
    document.body.appendChild(root);

    applyLang();
    onInput();
    renderHandoffBar();
    updateMenu();
    setStatus(S.connected ? 'online' : (S.everConnected ? 'reconnecting' : 'idle'));
    reveal();
  }

  function reveal() {
    if (R.root && cssReady) R.root.classList.remove('xiaoer-loading');
  }

  function applyLang() {
    if (!R.root) return;
    R.root.setAttribute('lang', S.lang === 'zh' ? 'zh-CN' : 'en');
    // Let the host page follow the widget's language (the demo page's toggle does).
    try { window.dispatchEvent(new CustomEvent('xiaoer:lang', { detail: { lang: S.lang } })); } catch (e) { /* old browser */ }
    var nodes = R.root.querySelectorAll('[data-xi18n]');
    for (var i = 0; i < nodes.length; i++) {
      var p = null;
      var raw = nodes[i].getAttribute('data-xi18n-p');
      if (raw) { try { p = JSON.parse(raw); } catch (e) { p = null; } }
      nodes[i].textContent = t(nodes[i].getAttribute('data-xi18n'), p);
    }
    var ph = R.root.querySelectorAll('[data-xi18n-ph]');
    for (var j = 0; j < ph.length; j++) {
      ph[j].placeholder = t(ph[j].getAttribute('data-xi18n-ph'));
      ph[j].setAttribute('aria-label', ph[j].placeholder);
    }
    var ti = R.root.querySelectorAll('[data-xi18n-title]');
    for (var k = 0; k < ti.length; k++) {
      var v = t(ti[k].getAttribute('data-xi18n-title'));
      if (ti[k].hasAttribute('title')) ti[k].setAttribute('title', v);
      ti[k].setAttribute('aria-label', v);
    }
    updateCounter();
  }

  function setStatus(state) {
    if (!R.conn) return;
    R.conn.className = 'xiaoer-conn xiaoer-conn-' + state;
    var key = state === 'online' ? 'online' : state === 'connecting' ? 'connecting'
      : state === 'reconnecting' ? 'reconnecting' : 'online';
    R.connText.setAttribute('data-xi18n', key);
    R.connText.textContent = t(key);
    if (R.root) R.root.classList.toggle('xiaoer-offline', state === 'reconnecting');
  }

  /* ------------------------------------------------------------------ */
  /* Composer                                                            */
  /* ------------------------------------------------------------------ */

  function onInput() {
    if (!R.input) return;
    var ta = R.input;
    ta.style.height = 'auto';
    var h = ta.scrollHeight;
    ta.style.height = h ? Math.max(30, Math.min(h, 132)) + 'px' : '';
    R.send.classList.toggle('xiaoer-send-empty', !ta.value.trim());
    updateCounter();
  }

  function updateCounter() {
    if (!R.input) return;
    var n = R.input.value.length;
    if (n >= COUNTER_AT) {
      R.counter.textContent = t('counter', { n: n, max: MAX_LEN });
      R.counter.classList.add('xiaoer-counter-show');
      R.counter.classList.toggle('xiaoer-counter-full', n >= MAX_LEN);
    } else {
      R.counter.textContent = '';
      R.counter.classList.remove('xiaoer-counter-show', 'xiaoer-counter-full');
    }
  }

  // noteTyping tells the agents the shopper is typing, at most every 2 s,
  // only while a person has (or is about to have) the conversation.
  function noteTyping() {
    if (S.handoff !== 'queued' && S.handoff !== 'assigned') return;
    if (!R.input.value.trim()) return;
    var now = Date.now();
    if (now - S.typingSent < 2000) return;
    if (wsSend({ type: 'typing' })) S.typingSent = now;
  }

  function submitInput() {
    var text = R.input.value;
    if (!text.trim()) return;
    if (sendText(text)) {
      R.input.value = '';
      onInput();
    }
  }

  /* ------------------------------------------------------------------ */
  /* Message list                                                        */
  /* ------------------------------------------------------------------ */

  function nearBottom() {
    var m = R.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 90;
  }

  function scrollBottom() {
    R.messages.scrollTop = R.messages.scrollHeight;
  }

  function insertNode(node, seq, force) {
    build();
    var stick = force || nearBottom();
    var before = null;
    if (seq) {
      // Keep seq order; replayed history also goes above still-unconfirmed local bubbles.
      var replayed = seq <= S.liveAfter;
      for (var c = R.list.lastChild; c; c = c.previousSibling) {
        var s = c.getAttribute && c.getAttribute('data-seq');
        if (!s) {
          if (replayed && c.classList && c.classList.contains('xiaoer-pending')) before = c;
          continue;
        }
        if (Number(s) > seq) before = c; else break;
      }
    }
    if (before) R.list.insertBefore(node, before); else R.list.appendChild(node);
    if (stick) scrollBottom();
  }

  function disableChipsExcept(keep) {
    if (!R.list) return;
    var chips = R.list.querySelectorAll('.xiaoer-chip:not([disabled])');
    for (var i = 0; i < chips.length; i++) {
      if (keep && keep.contains(chips[i])) continue;
      chips[i].disabled = true;
      chips[i].classList.add('xiaoer-chip-disabled');
    }
  }

  function settleChips(node) {
    if (isLatest(node)) { disableChipsExcept(node); return; }
    var chips = node.querySelectorAll('.xiaoer-chip');
    for (var i = 0; i < chips.length; i++) {
      chips[i].disabled = true;
      chips[i].classList.add('xiaoer-chip-disabled');
    }
  }

  function isLatest(node) {
    for (var c = node.nextSibling; c; c = c.nextSibling) {
      if (c.classList && (c.classList.contains('xiaoer-msg') || c.classList.contains('xiaoer-greeting'))) return false;
    }
    return true;
  }

  function hasServerMessages() {
    for (var k in S.byId) if (Object.prototype.hasOwnProperty.call(S.byId, k)) return true;
    for (var q in S.bySeq) if (Object.prototype.hasOwnProperty.call(S.bySeq, q)) return true;
    return false;
  }

  function clearList() {
    Object.keys(S.pending).forEach(function (cid) { clearTimeout(S.pending[cid].timer); });
    S.byId = {};
    S.bySeq = {};
    S.pending = {};
    S.awaiting = {};
    S.order = [];
    S.streams = {};
    S.returns = {};
    S.greetingEl = null;
    S.highestSeq = 0;
    S.liveAfter = 0;
    S.handoff = null;
    S.hinfo = null;
    S.leave = null;
    S.prechatEl = null;
    S.prechatDone = false;
    setUnread(0);
    hideTyping();
    if (R.list) R.list.textContent = '';
    updateHumanButton();
    renderHandoffBar();
  }

  function chipsFor(list, keys) {
    var wrap = el('div', 'xiaoer-chips');
    list.forEach(function (text, i) {
      var c = keys ? tEl('button', 'xiaoer-chip', keys[i]) : el('button', 'xiaoer-chip', text);
      c.type = 'button';
      c.addEventListener('click', function () {
        if (c.disabled) return;
        sendText(c.textContent);
      });
      wrap.appendChild(c);
    });
    return wrap;
  }

  function showGreeting() {
    if (S.greetingEl) return;
    build();
    var g = el('div', 'xiaoer-greeting');
    var name = S.shopper && S.shopper.name;
    g.appendChild(botRow(name ? tEl('div', 'xiaoer-text', 'greetingNamed', { name: name }) : tEl('div', 'xiaoer-text', 'greeting')));
    var chips = chipsFor([0, 1, 2], ['chip0', 'chip1', 'chip2']);
    g.appendChild(chips);
    S.greetingEl = g;
    R.list.insertBefore(g, R.list.firstChild);
    if (!isLatest(g)) disableChipsExcept(null); else disableChipsExcept(g);
    scrollBottom();
  }

  // botRow is a bot message's avatar, name, AI badge and a bubble holding content.
  function botRow(content) {
    var row = el('div', 'xiaoer-row');
    row.appendChild(avatarFor('bot'));
    var body = el('div', 'xiaoer-body');
    var head = el('div', 'xiaoer-msg-head');
    head.appendChild(tEl('span', 'xiaoer-name', 'botName'));
    head.appendChild(tEl('span', 'xiaoer-badge xiaoer-badge-ai', 'aiLabel'));
    body.appendChild(head);
    var bubble = el('div', 'xiaoer-bubble');
    bubble.appendChild(content);
    body.appendChild(bubble);
    row.appendChild(body);
    return row;
  }

  function avatarFor(role) {
    if (role === 'agent') {
      var a = el('div', 'xiaoer-avatar xiaoer-avatar-agent');
      a.appendChild(icon('person'));
      a.setAttribute('aria-hidden', 'true');
      return a;
    }
    var b = el('div', 'xiaoer-avatar', '二');
    b.setAttribute('aria-hidden', 'true');
    return b;
  }

  function addNotice(key, params, cls, rawText) {
    var n = el('div', 'xiaoer-notice' + (cls ? ' ' + cls : ''));
    if (cls && cls.indexOf('xiaoer-error') >= 0) n.appendChild(icon('alert'));
    var span = rawText != null ? el('span', 'xiaoer-notice-text', rawText) : tEl('span', 'xiaoer-notice-text', key, params);
    n.appendChild(span);
    insertNode(n, 0, false);
    return n;
  }

  /* ---------- building a server message ---------- */

  // The text of a message. A reply of several lines (an order list, say)
  // gets one block per line, so the lines read as separate lines with a
  // little space between them. Text only, never markup.
  function textBlock(text) {
    var box = el('div', 'xiaoer-text');
    var lines = String(text).split(/\r?\n/);
    if (lines.length < 2) {
      box.textContent = String(text);
      return box;
    }
    lines.forEach(function (line) { box.appendChild(el('div', 'xiaoer-line', line)); });
    return box;
  }

  /* ---------- answer Markdown ---------- */

  // Bot answers may use a small Markdown subset (docs/knowledge-base.md):
  // line breaks and blank lines, **bold**, *italic*, `code`, "- " and "1. "
  // lists, and [text](https://...) links to http(s) URLs only. Headings
  // show as bold lines. Everything else, images and raw HTML included, shows
  // as the text it is: nodes are made with createElement and textContent,
  // never from markup, so nothing in an answer can load or run.

  var MD_BULLET = /^ {0,3}[-*] +(.*)$/;
  var MD_NUMBER = /^ {0,3}(\d{1,9})[.)] +(.*)$/;
  var MD_HEADING = /^ {0,3}#{1,6} +(.*?)(?: +#+)? *$/;
  // A link or image at lastIndex: [text](target) or [text](<target> "title").
  // Its parts cannot overlap, so a failed match costs no more than its length.
  var MD_LINK = /\[([^[\]\n]{0,1000})\]\( *<?((?:[^()\s<>]|\([^()\s]*\))*)>?(?: +"[^"\n]*")? *\)/y;
  var MD_ESCAPABLE = /[!-\/:-@\[-`{-~]/;

  // mdURL returns the URL to link to, or null unless u is an http(s) URL
  // with a host.
  function mdURL(u) {
    if (!/^https?:\/\/[^\/\s]/i.test(u)) return null;
    try {
      var p = new URL(u);
      return p.protocol === 'http:' || p.protocol === 'https:' ? p.href : null;
    } catch (e) {
      return null;
    }
  }

  // mdInline appends the inline Markdown of s to parent. inLink is true for
  // a link's text, which holds no links.
  function mdInline(parent, s, inLink) {
    var buf = '';
    var noClose = {}; // marker -> a position from which it has no closing
    function flush() {
      if (buf) parent.appendChild(document.createTextNode(buf));
      buf = '';
    }
    // close finds the closing marker for an opening one that ends at from,
    // not right after it; for "*" and "**" not after a space or a backslash,
    // and for "*" not part of "**". It returns -1 when there is none.
    function close(marker, from) {
      if (noClose[marker] != null && from >= noClose[marker]) return -1;
      for (var j = s.indexOf(marker, from + 1); j >= 0; j = s.indexOf(marker, j + 1)) {
        var before = s.charAt(j - 1);
        if (marker !== '`' && (/\s/.test(before) || before === '\\')) continue;
        if (marker === '*' && (before === '*' || s.charAt(j + 1) === '*')) continue;
        if (marker === '**') while (s.charAt(j + 2) === '*') j++; // "***x***": the last two
        return j;
      }
      noClose[marker] = from;
      return -1;
    }
    var lastLink = s.lastIndexOf('](');
    var i = 0;
    while (i < s.length) {
      var c = s.charAt(i);
      var next = s.charAt(i + 1);
      var j;
      if (c === '\\' && MD_ESCAPABLE.test(next)) {
        buf += next;
        i += 2;
        continue;
      }
      if (c === '`' && (j = close('`', i)) > i + 1) {
        flush();
        parent.appendChild(el('code', 'xiaoer-md-code', s.slice(i + 1, j)));
        i = j + 1;
        continue;
      }
      if ((c === '[' || (c === '!' && next === '[')) && i < lastLink) {
        MD_LINK.lastIndex = c === '!' ? i + 1 : i;
        var m = MD_LINK.exec(s);
        if (m) {
          var end = MD_LINK.lastIndex;
          var href = c === '[' && !inLink ? mdURL(m[2]) : null;
          if (href) {
            flush();
            var a = el('a', 'xiaoer-md-link');
            a.setAttribute('href', href);
            a.setAttribute('target', '_blank');
            a.setAttribute('rel', 'noopener noreferrer nofollow');
            mdInline(a, m[1], true);
            parent.appendChild(a);
          } else {
            buf += s.slice(i, end); // an image or an unsafe link: its text, as written
          }
          i = end;
          continue;
        }
      }
      if (c === '*' && next === '*' && !/\s/.test(s.charAt(i + 2)) && (j = close('**', i + 1)) > i + 2) {
        flush();
        var b = el('strong', 'xiaoer-md-strong');
        mdInline(b, s.slice(i + 2, j), inLink);
        parent.appendChild(b);
        i = j + 2;
        continue;
      }
      if (c === '*' && next !== '*' && next && !/\s/.test(next) && (j = close('*', i)) > i + 1) {
        flush();
        var em = el('em', 'xiaoer-md-em');
        mdInline(em, s.slice(i + 1, j), inLink);
        parent.appendChild(em);
        i = j + 1;
        continue;
      }
      buf += c;
      i++;
    }
    flush();
  }

  // mdBlock renders a bot answer: one block per line, as textBlock does,
  // with runs of list lines as a list.
  function mdBlock(text) {
    var box = el('div', 'xiaoer-text');
    var lines = String(text).split(/\r?\n/);
    if (lines.length < 2 && !MD_BULLET.test(lines[0]) && !MD_NUMBER.test(lines[0]) && !MD_HEADING.test(lines[0])) {
      mdInline(box, lines[0], false);
      return box;
    }
    var list = null;
    var listKind = '';
    lines.forEach(function (line) {
      var m;
      var kind = (m = MD_BULLET.exec(line)) ? 'ul' : (m = MD_NUMBER.exec(line)) ? 'ol' : '';
      if (kind) {
        if (!list || listKind !== kind) {
          list = el(kind, 'xiaoer-md-list');
          listKind = kind;
          if (kind === 'ol' && m[1] !== '1') list.setAttribute('start', String(parseInt(m[1], 10)));
          box.appendChild(list);
        }
        var li = el('li');
        mdInline(li, m[kind === 'ol' ? 2 : 1], false);
        list.appendChild(li);
        return;
      }
      list = null;
      var row = el('div', 'xiaoer-line');
      if ((m = MD_HEADING.exec(line))) {
        var h = el('strong', 'xiaoer-md-strong');
        mdInline(h, m[1], false);
        row.appendChild(h);
      } else {
        mdInline(row, line, false);
      }
      box.appendChild(row);
    });
    return box;
  }

  function capitalize(s) {
    s = String(s);
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  function buildMessage(m) {
    var role = m.role;
    if (role !== 'bot' && role !== 'agent' && role !== 'shopper' && role !== 'system') role = 'system';
    var id = m.id != null ? String(m.id) : '';
    var seq = Number(m.seq) || 0;

    var wrap = el('div', 'xiaoer-msg xiaoer-msg-' + role);
    if (id) wrap.setAttribute('data-id', id);
    if (seq) wrap.setAttribute('data-seq', String(seq));
    var text = m.text != null ? String(m.text) : '';

    if (role === 'system') {
      wrap.appendChild(el('div', 'xiaoer-bubble xiaoer-text', text));
      return wrap;
    }

    if (role === 'shopper') {
      var sb = el('div', 'xiaoer-bubble');
      sb.appendChild(el('div', 'xiaoer-text', text));
      wrap.appendChild(sb);
      var meta = el('div', 'xiaoer-meta');
      meta.appendChild(el('span', 'xiaoer-time', fmtTime(m.created_at)));
      wrap.appendChild(meta);
      return wrap;
    }

    // bot / agent
    var row = el('div', 'xiaoer-row');
    row.appendChild(avatarFor(role));
    var body = el('div', 'xiaoer-body');
    var head = el('div', 'xiaoer-msg-head');
    // Every bot message is labelled as AI-generated, every agent message
    // as written by a person, with the agent's name when known.
    if (role === 'bot') {
      head.appendChild(tEl('span', 'xiaoer-name', 'botName'));
      head.appendChild(tEl('span', 'xiaoer-badge xiaoer-badge-ai', 'aiLabel'));
    } else {
      var agentName = typeof m.agent_name === 'string' && m.agent_name ? m.agent_name : null;
      if (agentName) head.appendChild(el('span', 'xiaoer-name xiaoer-agent-name', agentName));
      head.appendChild(tEl('span', 'xiaoer-badge xiaoer-badge-human', 'agentLabel'));
    }
    body.appendChild(head);

    var allCards = Array.isArray(m.cards) ? m.cards : [];
    var cards = allCards.filter(function (c) { return c && (c.kind === 'order' || c.kind === 'return' || c.kind === 'product'); });
    var rating = role === 'bot' && allCards.some(function (c) { return c && c.kind === 'rating'; });
    if (cards.length) body.classList.add('xiaoer-body-cards');
    if (text || (!cards.length && !rating)) {
      var bubble = el('div', 'xiaoer-bubble');
      bubble.appendChild(role === 'bot' ? mdBlock(text) : textBlock(text));
      body.appendChild(bubble);
    }

    cards.forEach(function (c) {
      body.appendChild(c.kind === 'return' ? buildReturnCard(c) : c.kind === 'product' ? buildProductCard(c) : buildOrderCard(c));
    });

    var sources = Array.isArray(m.sources) ? m.sources : [];
    if (sources.length) {
      var sw = el('div', 'xiaoer-sources');
      sw.appendChild(tEl('span', 'xiaoer-sources-label', 'source'));
      sources.forEach(function (s) {
        if (!s) return;
        var title = typeof s === 'string' ? s : (s.title || s.id || '');
        if (!title) return;
        var a = el('span', 'xiaoer-source', String(title));
        a.setAttribute('title', String(title));
        if (s.id != null) a.setAttribute('data-source-id', String(s.id));
        sw.appendChild(a);
      });
      body.appendChild(sw);
    }

    var meta2 = el('div', 'xiaoer-meta');
    meta2.appendChild(el('span', 'xiaoer-time', fmtTime(m.created_at)));
    if (role === 'bot' && id) meta2.appendChild(buildFeedback(id));
    body.appendChild(meta2);

    row.appendChild(body);
    wrap.appendChild(row);

    if (rating) wrap.appendChild(buildRating(id));

    var sugg = Array.isArray(m.suggestions) ? m.suggestions.filter(function (s) { return typeof s === 'string' && s.trim(); }) : [];
    if (sugg.length) wrap.appendChild(chipsFor(sugg, null));
    return wrap;
  }

  function buildOrderCard(c) {
    var card = el('div', 'xiaoer-card xiaoer-card-order');
    if (c.order_id != null) card.setAttribute('data-order-id', String(c.order_id));

    var head = el('div', 'xiaoer-card-head');
    head.appendChild(icon('box', 'xiaoer-card-icon'));
    var title = el('div', 'xiaoer-card-title');
    title.appendChild(tEl('span', 'xiaoer-card-label', 'orderNo'));
    title.appendChild(el('span', 'xiaoer-order-id', c.order_id != null ? String(c.order_id) : ''));
    head.appendChild(title);
    var statusText = c.status_text || c.status || '';
    if (statusText) {
      var st = el('span', 'xiaoer-order-status', capitalize(statusText));
      if (c.status) st.setAttribute('data-status', String(c.status).toLowerCase());
      head.appendChild(st);
    }
    card.appendChild(head);

    var ul = buildCardItems(c.items);
    if (ul) card.appendChild(ul);

    var rows = el('div', 'xiaoer-card-rows');
    function row(key, value, extra) {
      var r = el('div', 'xiaoer-card-row');
      r.appendChild(tEl('span', 'xiaoer-card-k', key));
      var v = el('span', 'xiaoer-card-v', value);
      if (extra) v.appendChild(extra);
      r.appendChild(v);
      rows.appendChild(r);
    }
    if (c.total != null && c.total !== '') row('total', String(c.total));
    if (c.placed_at) row('placed', fmtDate(c.placed_at));
    if (c.carrier) row('carrier', String(c.carrier));
    if (c.tracking_no) {
      var copyBtn = null;
      if (navigator.clipboard && window.isSecureContext) {
        copyBtn = tEl('button', 'xiaoer-copy', 'copy');
        copyBtn.type = 'button';
        copyBtn.addEventListener('click', function () {
          navigator.clipboard.writeText(String(c.tracking_no)).then(function () {
            copyBtn.setAttribute('data-xi18n', 'copied');
            copyBtn.textContent = t('copied');
            setTimeout(function () { copyBtn.setAttribute('data-xi18n', 'copy'); copyBtn.textContent = t('copy'); }, 1500);
          }, function () { /* ignore */ });
        });
      }
      row('trackingNo', String(c.tracking_no), copyBtn);
    }
    if (c.eta) row('eta', fmtDate(c.eta));
    if (c.return_until) row('returnUntil', fmtDate(c.return_until));
    if (rows.firstChild) card.appendChild(rows);

    var ev = c.latest_event;
    if (ev && (ev.text || ev.time)) {
      var evEl = el('div', 'xiaoer-card-event');
      var evHead = el('div', 'xiaoer-card-event-head');
      evHead.appendChild(tEl('span', 'xiaoer-card-k', 'latest'));
      if (ev.time) evHead.appendChild(el('span', 'xiaoer-card-event-time', fmtDate(ev.time)));
      evEl.appendChild(evHead);
      if (ev.text) evEl.appendChild(el('div', 'xiaoer-card-event-text', String(ev.text)));
      card.appendChild(evEl);
    }
    return card;
  }

  // buildProductCard shows a recommended catalog item: name, price,
  // category and why, as text only (no image is ever loaded).
  function buildProductCard(c) {
    var card = el('div', 'xiaoer-card xiaoer-card-product');
    if (c.sku != null) card.setAttribute('data-sku', String(c.sku));
    var head = el('div', 'xiaoer-card-head');
    head.appendChild(el('span', 'xiaoer-product-name', c.name != null ? String(c.name) : String(c.sku || '')));
    card.appendChild(head);
    var rows = el('div', 'xiaoer-card-rows');
    function row(key, value) {
      var r = el('div', 'xiaoer-card-row');
      r.appendChild(tEl('span', 'xiaoer-card-k', key));
      r.appendChild(el('span', 'xiaoer-card-v', value));
      rows.appendChild(r);
    }
    if (c.price != null && c.price !== '') row('productPrice', String(c.price));
    if (c.category) row('productCategory', String(c.category));
    if (c.reason) row('productWhy', String(c.reason));
    if (rows.firstChild) card.appendChild(rows);
    return card;
  }

  // buildCardItems lists a card's items ([{name, qty}]), at most four lines;
  // null when there are none.
  function buildCardItems(list) {
    var items = Array.isArray(list) ? list.filter(Boolean) : [];
    if (!items.length) return null;
    var ul = el('ul', 'xiaoer-card-items');
    var shown = items.length > 4 ? items.slice(0, 3) : items;
    shown.forEach(function (it) {
      var li = el('li', 'xiaoer-card-item');
      li.appendChild(el('span', 'xiaoer-item-name', it.name != null ? String(it.name) : ''));
      if (it.qty != null) li.appendChild(el('span', 'xiaoer-item-qty', '\u00d7 ' + String(it.qty)));
      ul.appendChild(li);
    });
    if (items.length > shown.length) {
      var more = el('li', 'xiaoer-card-item xiaoer-card-more');
      more.appendChild(tEl('span', '', 'moreItems', { n: items.length - shown.length }));
      ul.appendChild(more);
    }
    return ul;
  }

  /* ---------- return card ---------- */

  // A return card is a return the bot proposes for an order. While it is
  // "proposed" the shopper confirms or cancels it here; nothing is
  // submitted before that. A later message carries a card of the same
  // proposal_id with the outcome ("confirmed" or "cancelled"): every card
  // of that proposal then shows the outcome, whatever order they were
  // built in (live, or replayed after a reload).

  function returnFinal(status) {
    return status === 'confirmed' || status === 'cancelled';
  }

  function returnEntry(pid) {
    var r = S.returns[pid];
    if (!r) r = S.returns[pid] = { cards: [], final: null, pending: false };
    return r;
  }

  function buildReturnCard(c) {
    var pid = c.proposal_id != null ? String(c.proposal_id) : '';
    var status = String(c.status || '').toLowerCase();
    var card = el('div', 'xiaoer-card xiaoer-card-return');
    if (pid) card.setAttribute('data-proposal-id', pid);
    if (c.order_id != null) card.setAttribute('data-order-id', String(c.order_id));

    var head = el('div', 'xiaoer-card-head');
    head.appendChild(icon('retry', 'xiaoer-card-icon'));
    var title = el('div', 'xiaoer-card-title');
    title.appendChild(tEl('span', 'xiaoer-card-label', 'returnTitle'));
    title.appendChild(el('span', 'xiaoer-order-id', c.order_id != null ? String(c.order_id) : ''));
    head.appendChild(title);
    var st = el('span', 'xiaoer-order-status xiaoer-return-status');
    head.appendChild(st);
    card.appendChild(head);

    var ul = buildCardItems(c.items);
    if (ul) card.appendChild(ul);

    var rows = el('div', 'xiaoer-card-rows');
    if (c.return_until) rows.appendChild(tEl('div', 'xiaoer-card-row xiaoer-return-window', 'returnWindow', { date: fmtDate(c.return_until) }));
    if (c.reason) {
      var r = el('div', 'xiaoer-card-row xiaoer-return-reason');
      r.appendChild(tEl('span', 'xiaoer-card-k', 'returnReason'));
      r.appendChild(el('span', 'xiaoer-card-v', String(c.reason)));
      rows.appendChild(r);
    }
    if (rows.firstChild) card.appendChild(rows);

    var entry = pid ? returnEntry(pid) : null;
    if (entry) entry.cards.push(card);
    if (returnFinal(status)) {
      if (entry) {
        entry.final = c;
        entry.pending = false;
        entry.cards.forEach(function (k) { if (k !== card) showReturnOutcome(k, c); });
      }
      showReturnOutcome(card, c);
    } else if (entry && entry.final) {
      showReturnOutcome(card, entry.final); // the outcome is known already
    } else {
      setReturnStatus(card, status, c.status_text);
      if (status === 'proposed' && pid) card.appendChild(buildReturnActions(pid, entry.pending));
    }
    return card;
  }

  function setReturnStatus(card, status, text) {
    var st = card.querySelector('.xiaoer-return-status');
    card.setAttribute('data-status', status);
    st.setAttribute('data-status', status);
    var key = status === 'proposed' ? 'returnProposed' : status === 'confirmed' ? 'returnConfirmed'
      : status === 'cancelled' ? 'returnCancelled' : null;
    if (text) {
      st.removeAttribute('data-xi18n');
      st.textContent = String(text);
    } else if (key) {
      st.setAttribute('data-xi18n', key);
      st.textContent = t(key);
    } else {
      st.removeAttribute('data-xi18n');
      st.textContent = status;
    }
  }

  function buildReturnActions(pid, pending) {
    var box = el('div', 'xiaoer-return-actions');
    box.appendChild(tEl('div', 'xiaoer-return-hint', 'returnHint'));
    var btns = el('div', 'xiaoer-return-buttons');
    var ok = tEl('button', 'xiaoer-return-btn xiaoer-return-confirm', 'returnConfirm');
    ok.type = 'button';
    var no = tEl('button', 'xiaoer-return-btn xiaoer-return-cancel', 'returnCancel');
    no.type = 'button';
    ok.addEventListener('click', function () { answerReturn(pid, true); });
    no.addEventListener('click', function () { answerReturn(pid, false); });
    btns.appendChild(ok);
    btns.appendChild(no);
    box.appendChild(btns);
    var wait = el('div', 'xiaoer-return-wait');
    wait.setAttribute('role', 'status');
    box.appendChild(wait);
    if (pending) { ok.disabled = no.disabled = true; }
    return box;
  }

  // answerReturn sends the shopper's answer to a proposal and shows every
  // card of it as waiting for the outcome, with both buttons disabled.
  function answerReturn(pid, confirm) {
    var entry = returnEntry(pid);
    if (entry.final || entry.pending) return;
    entry.pending = true;
    entry.cards.forEach(function (card) {
      var box = card.querySelector('.xiaoer-return-actions');
      if (!box) return;
      card.classList.add('xiaoer-return-pending');
      var b = box.querySelectorAll('button');
      for (var i = 0; i < b.length; i++) b[i].disabled = true;
      var wait = box.querySelector('.xiaoer-return-wait');
      var key = confirm ? 'returnSubmitting' : 'returnCancelling';
      wait.setAttribute('data-xi18n', key);
      wait.textContent = t(key);
    });
    sendControl({ type: confirm ? 'return_confirm' : 'return_cancel', proposal_id: pid });
  }

  // stopReturnWaits ends the waiting state of answered proposals after the
  // server refused the answer: the buttons stay disabled, the error notice
  // says why.
  function stopReturnWaits() {
    Object.keys(S.returns).forEach(function (pid) {
      var entry = S.returns[pid];
      if (!entry.pending || entry.final) return;
      entry.cards.forEach(function (card) {
        card.classList.remove('xiaoer-return-pending');
        var wait = card.querySelector('.xiaoer-return-wait');
        if (wait) { wait.removeAttribute('data-xi18n'); wait.textContent = ''; }
      });
    });
  }

  // showReturnOutcome shows card in the final state of the proposal: no
  // buttons, the final status, and what happened.
  function showReturnOutcome(card, fin) {
    var status = String(fin.status || '').toLowerCase();
    card.classList.remove('xiaoer-return-pending');
    card.classList.add('xiaoer-return-final');
    setReturnStatus(card, status, fin.status_text);
    var box = card.querySelector('.xiaoer-return-actions');
    if (box) box.remove();
    var old = card.querySelector('.xiaoer-return-outcome');
    if (old) old.remove();
    var out;
    if (status === 'cancelled') out = tEl('div', 'xiaoer-return-outcome', 'returnCancelled');
    else if (fin.return_id) out = tEl('div', 'xiaoer-return-outcome', 'returnSubmitted', { no: String(fin.return_id) });
    else out = tEl('div', 'xiaoer-return-outcome', 'returnSubmittedNoId');
    out.setAttribute('data-status', status);
    if (fin.return_id) card.setAttribute('data-return-id', String(fin.return_id));
    card.appendChild(out);
  }

  function buildFeedback(id) {
    var wrap = el('span', 'xiaoer-feedback');
    var up = button('xiaoer-fb xiaoer-fb-up', 'helpful');
    up.appendChild(icon('up'));
    var down = button('xiaoer-fb xiaoer-fb-down', 'notHelpful');
    down.appendChild(icon('down'));
    var thanks = tEl('span', 'xiaoer-fb-thanks', 'thanks');
    function mark(helpful) {
      up.setAttribute('aria-pressed', helpful ? 'true' : 'false');
      down.setAttribute('aria-pressed', helpful ? 'false' : 'true');
      up.disabled = down.disabled = true;
      wrap.classList.add('xiaoer-fb-done');
    }
    var given = feedbackGiven[id];
    if (given === 1 || given === 0) mark(given === 1);
    function give(helpful) {
      if (up.disabled) return;
      mark(helpful);
      wrap.classList.add('xiaoer-fb-justdone');
      saveFeedback(id, helpful);
      sendControl({ type: 'feedback', message_id: id, helpful: helpful });
    }
    up.addEventListener('click', function () { give(true); });
    down.addEventListener('click', function () { give(false); });
    wrap.appendChild(up);
    wrap.appendChild(down);
    wrap.appendChild(thanks);
    return wrap;
  }

  /* ---------- pending shopper bubbles ---------- */

  function buildPending(p) {
    var wrap = el('div', 'xiaoer-msg xiaoer-msg-shopper xiaoer-pending');
    wrap.setAttribute('data-client-id', p.cid);
    var b = el('div', 'xiaoer-bubble');
    b.appendChild(el('div', 'xiaoer-text', p.text));
    wrap.appendChild(b);
    var meta = el('div', 'xiaoer-meta');
    var state = tEl('span', 'xiaoer-state', 'sending');
    meta.appendChild(state);
    wrap.appendChild(meta);
    p.stateEl = state;
    p.metaEl = meta;
    return wrap;
  }

  function setPendingState(p, state) {
    p.state = state;
    var w = p.el;
    w.classList.toggle('xiaoer-failed', state === 'failed');
    w.classList.toggle('xiaoer-waiting', state === 'waiting');
    p.stateEl.setAttribute('data-xi18n', state === 'failed' ? 'failed' : state === 'waiting' ? 'waiting' : 'sending');
    p.stateEl.textContent = t(p.stateEl.getAttribute('data-xi18n'));
    if (p.retryEl) { p.retryEl.remove(); p.retryEl = null; }
    if (state === 'failed') {
      var r = button('xiaoer-retry', 'retry');
      r.appendChild(icon('retry'));
      r.appendChild(tEl('span', '', 'retry'));
      r.addEventListener('click', function () { retryPending(p.cid); });
      p.metaEl.appendChild(r);
      p.retryEl = r;
    }
  }

  function transmit(p) {
    clearTimeout(p.timer);
    var fr = { type: 'message', client_id: p.cid, text: p.text };
    if (p.leave) {
      fr = { type: 'leave_message', client_id: p.cid, text: p.text, contact_via: p.leave.via };
      if (p.leave.contact) fr.contact = p.leave.contact;
    }
    if (wsSend(fr)) {
      setPendingState(p, 'sending');
      if (!p.leave) showTyping('bot');
      p.timer = setTimeout(function () {
        if (S.pending[p.cid] === p && p.state === 'sending' && S.connected) setPendingState(p, 'failed');
      }, ACK_TIMEOUT);
    } else {
      setPendingState(p, 'waiting');
      ensureConnecting();
    }
  }

  function retryPending(cid) {
    var p = S.pending[cid];
    if (p) transmit(p);
  }

  function confirmPending(p, id, seq, createdAt) {
    clearTimeout(p.timer);
    delete S.pending[p.cid];
    if (!p.leave) S.awaiting[p.cid] = { text: p.text, at: Date.now() };
    S.order = S.order.filter(function (c) { return c !== p.cid; });
    var w = p.el;
    if (seq && S.bySeq[seq] && S.bySeq[seq] !== w) { w.remove(); return; }
    if (id && S.byId[id] && S.byId[id] !== w) { w.remove(); return; }
    w.classList.remove('xiaoer-pending', 'xiaoer-failed', 'xiaoer-waiting');
    w.classList.add('xiaoer-sent');
    if (seq) { w.setAttribute('data-seq', String(seq)); S.bySeq[seq] = w; }
    if (id) { w.setAttribute('data-id', id); S.byId[id] = w; }
    if (p.retryEl) { p.retryEl.remove(); p.retryEl = null; }
    p.stateEl.removeAttribute('data-xi18n');
    p.stateEl.className = 'xiaoer-time';
    p.stateEl.textContent = fmtTime(createdAt || new Date().toISOString());
  }

  // sendText sends a shopper message; leave ({via, contact}) makes it a
  // message left for the agents (leave_message). It returns the client_id,
  // or '' when there is nothing to send.
  function sendText(text, leave) {
    text = String(text || '').replace(/^\s+|\s+$/g, '');
    if (!text) return '';
    if (text.length > MAX_LEN) text = text.slice(0, MAX_LEN);
    build();
    dismissPrechat();
    var p = { cid: uuid(), text: text, state: 'sending', timer: null, leave: leave || null };
    p.el = buildPending(p);
    S.pending[p.cid] = p;
    S.order.push(p.cid);
    insertNode(p.el, 0, true);
    disableChipsExcept(null);
    if (S.connected) transmit(p);
    else { setPendingState(p, 'waiting'); ensureConnecting(); }
    return p.cid;
  }

  /* ---------- typing ---------- */

  function showTyping(role) {
    build();
    clearTimeout(S.typingTimer);
    var stick = nearBottom();
    R.typing.classList.toggle('xiaoer-typing-agent', role === 'agent');
    R.typingAvatar.textContent = '';
    if (role === 'agent') R.typingAvatar.appendChild(icon('person'));
    else R.typingAvatar.textContent = '二';
    R.typingAvatar.className = 'xiaoer-avatar' + (role === 'agent' ? ' xiaoer-avatar-agent' : '');
    var labelKey = role === 'agent' ? 'typingAgent' : 'typingBot';
    R.typingLabel.setAttribute('data-xi18n', labelKey);
    R.typingLabel.textContent = t(labelKey);
    R.typing.classList.add('xiaoer-typing-on');
    if (stick) scrollBottom();
    S.typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT);
  }

  function hideTyping() {
    clearTimeout(S.typingTimer);
    S.typingTimer = null;
    if (R.typing) R.typing.classList.remove('xiaoer-typing-on');
  }

  /* ---------- unread ---------- */

  function setUnread(n) {
    S.unread = n;
    if (!R.unread) return;
    R.unread.textContent = n > 9 ? '9+' : (n ? String(n) : '');
    R.root.classList.toggle('xiaoer-has-unread', n > 0);
  }

  /* ------------------------------------------------------------------ */
  /* Frames                                                              */
  /* ------------------------------------------------------------------ */

  function onHello(f) {
    S.connected = true;
    S.everConnected = true;
    S.attempts = 0;
    setStatus('online');

    var l = normLang(f.lang);
    if (l && l !== S.lang) { S.lang = l; applyLang(); }

    S.shopper = f.shopper && f.shopper.id != null ? { id: String(f.shopper.id), name: f.shopper.name ? String(f.shopper.name) : '' } : null;
    updateMenu();

    if (S.conv && f.conversation && f.conversation !== S.conv) {
      // The server started a different conversation; drop the old view but keep unsent messages.
      var keep = S.order.map(function (c) { return S.pending[c]; }).filter(Boolean);
      clearList();
      keep.forEach(function (p) { S.pending[p.cid] = p; S.order.push(p.cid); R.list.appendChild(p.el); });
    }
    if (f.conversation) S.conv = String(f.conversation);
    var key = NS + 'conv.' + (S.shopper ? S.shopper.id : 'v:' + visitor);
    if (S.conv) lsSet(key, S.conv);
    if (S.token && S.shopper) lsSet(NS + 'tok.' + fnv(S.token), S.shopper.id);

    var last = Number(f.last_seq) || 0;
    S.liveAfter = last;
    if (last === 0 && !hasServerMessages()) {
      showGreeting();
      if (f.prechat === true && !S.prechatDone && !S.order.length) showPrechat();
    }

    // Flush unsent shopper messages (same client_id; the server dedupes) and control frames.
    S.order.slice().forEach(function (cid) {
      var p = S.pending[cid];
      if (p && p.state !== 'failed') transmit(p);
    });
    resendAwaiting();
    var q = S.ctrlQueue;
    S.ctrlQueue = [];
    q.forEach(function (fr) { if (!wsSend(fr)) S.ctrlQueue.push(fr); });
  }

  // resendAwaiting sends again the stored messages still without a reply
  // from the last few minutes, silently: the server acknowledges them again
  // and answers only those it has no reply for (it may have stopped between
  // storing a message and answering it).
  function resendAwaiting() {
    var now = Date.now();
    Object.keys(S.awaiting).forEach(function (cid) {
      var a = S.awaiting[cid];
      if (now - a.at > AWAIT_REPLY_MS || S.handoff === 'queued' || S.handoff === 'assigned') { delete S.awaiting[cid]; return; }
      wsSend({ type: 'message', client_id: cid, text: a.text });
    });
  }

  function onAck(f) {
    var p = f.client_id != null && S.pending[f.client_id];
    var seq = Number(f.seq) || 0;
    if (seq > S.highestSeq) S.highestSeq = seq;
    if (!p) return;
    confirmPending(p, f.id != null ? String(f.id) : '', seq, f.created_at);
  }

  function onMessage(m) {
    var id = m.id != null ? String(m.id) : '';
    var seq = Number(m.seq) || 0;
    if (seq > S.highestSeq) S.highestSeq = seq;

    if (m.role === 'shopper') {
      var p = m.client_id != null && S.pending[m.client_id];
      if (p) { confirmPending(p, id, seq, m.created_at); return; }
      if ((id && S.byId[id]) || (seq && S.bySeq[seq])) return;
      var node = buildMessage(m);
      register(node, id, seq);
      insertNode(node, seq, false);
      settleChips(node);
      return;
    }

    if (m.reply_to != null) delete S.awaiting[String(m.reply_to)];
    hideTyping();
    // The server states a handoff's outcome in a system message, then sends
    // the handoff frame: remember it so the frame does not say it twice.
    if (m.role === 'system' && m.intent === 'handoff' && !(seq && seq <= S.liveAfter)) S.handoffTold = true;
    var existing = id ? S.byId[id] : null;
    if (existing && S.streams[id] === existing) {
      // The end of a streamed reply: its text is authoritative (it may
      // differ from the deltas), and it replaces the streamed bubble in
      // place. The new node is not aria-hidden, so the log announces it.
      delete S.streams[id];
      var stick = nearBottom();
      var fresh = buildMessage(m);
      if (existing.parentNode) existing.parentNode.replaceChild(fresh, existing);
      else insertNode(fresh, seq, false);
      register(fresh, id, seq);
      settleChips(fresh);
      if (stick) scrollBottom();
      noteIncoming(m, seq);
      return;
    }
    if (existing || (seq && S.bySeq[seq])) return;

    var replayed = !!(seq && seq <= S.liveAfter);
    var follow = !replayed && nearBottom();
    var n = buildMessage(m);
    register(n, id, seq);
    insertNode(n, seq, replayed);
    settleChips(n);
    if (follow) revealReply(n);
    noteIncoming(m, seq);
  }

  // A new reply taller than the message area (an order list with cards) is
  // shown from its start, so the shopper reads it top down; a shorter one
  // just brings the list to the bottom.
  function revealReply(node) {
    var m = R.messages;
    var top = node.getBoundingClientRect().top - m.getBoundingClientRect().top;
    if (node.offsetHeight > m.clientHeight - 24) m.scrollTop += top - 8;
    else scrollBottom();
  }

  function register(node, id, seq) {
    if (id) S.byId[id] = node;
    if (seq) S.bySeq[seq] = node;
  }

  function noteIncoming(m, seq) {
    if (S.isOpen) return;
    if (m.role !== 'bot' && m.role !== 'agent') return;
    if (seq && seq <= S.liveAfter) return; // replayed history
    setUnread(S.unread + 1);
  }

  // onDelta shows a chunk of a bot reply being generated. The first chunk
  // of an id makes a bot bubble marked xiaoer-streaming (a blinking caret)
  // and aria-hidden, so that screen readers get the final message once
  // instead of every chunk; chunks are plain text. The stored message with
  // the same id replaces the bubble (onMessage); a lost connection drops it
  // (dropStreams), and the replay brings the stored message.
  function onDelta(f) {
    if (f.id == null || f.id === '') return;
    var id = String(f.id);
    var node = S.byId[id];
    if (node && S.streams[id] !== node) return; // already final
    // n numbers the chunks of a message from 0. A stream joined midway (a
    // reconnect during a reply) or with a chunk dropped under pressure
    // would show text with a hole: wait for the final message instead.
    var n = typeof f.n === 'number' ? f.n : null;
    if (!node && n !== null && n > 0) return;
    if (node && n !== null && S.streamNext[id] !== n) { S.streamNext[id] = -1; return; }
    if (n !== null) S.streamNext[id] = n + 1;
    hideTyping();
    var stick = nearBottom();
    if (!node) {
      node = el('div', 'xiaoer-msg xiaoer-msg-bot xiaoer-streaming');
      node.setAttribute('data-id', id);
      node.setAttribute('aria-hidden', 'true');
      node.appendChild(botRow(el('div', 'xiaoer-text xiaoer-stream-text', '')));
      S.byId[id] = node;
      S.streams[id] = node;
      insertNode(node, 0, false);
      disableChipsExcept(null);
    }
    var target = node.querySelector('.xiaoer-stream-text');
    if (f.text != null && f.text !== '') target.appendChild(document.createTextNode(String(f.text)));
    if (stick) scrollBottom();
  }

  // dropStreams removes the bubbles of replies still being streamed: after
  // a reconnect the server replays the stored message instead.
  function dropStreams() {
    Object.keys(S.streams).forEach(function (id) {
      var node = S.streams[id];
      if (node.parentNode) node.parentNode.removeChild(node);
      if (S.byId[id] === node) delete S.byId[id];
    });
    S.streams = {};
    S.streamNext = {};
  }

  // onHandoff follows where a request for a person stands. A notice is
  // added only when a status is entered, unless the server's system message
  // just said it or the frame restores the state after a reconnect
  // (resumed); repeated frames of one status (a new queue position or
  // estimate) only update the handoff bar.
  function onHandoff(f) {
    var st = String(f.status || '');
    var pos = Number(f.position) || 0;
    var key = null;
    var params = null;
    if (st === 'queued') {
      if (pos > 0) { key = 'hQueued'; params = { n: pos }; } else key = 'hQueuedNoPos';
    } else if (st === 'assigned') key = 'hAssigned';
    else if (st === 'ticket') key = 'hTicket';
    else if (st === 'closed') key = 'hClosed';
    else if (st === 'offline') key = 'hOffline';
    if (!key) return;
    if (st === 'queued' || st === 'assigned' || st === 'ticket') S.awaiting = {}; // people answer now
    var entered = st !== S.handoff;
    var told = S.handoffTold;
    S.handoffTold = false;
    if (entered) hideTyping();
    if (entered && !told && f.resumed !== true) addNotice(key, params, 'xiaoer-notice-handoff xiaoer-handoff-' + st);
    S.handoff = st;
    S.hinfo = {
      position: pos,
      eta: Number(f.eta_seconds) || 0,
      agent: typeof f.agent === 'string' ? f.agent : ''
    };
    updateHumanButton();
    renderHandoffBar();
    if (st === 'offline') {
      if (entered && f.resumed !== true) showLeaveForm();
    } else {
      hideLeaveForm();
    }
  }

  // renderHandoffBar shows, under the header, the queue position and the
  // estimated wait while queued, and the agent while assigned; it is hidden
  // otherwise.
  function renderHandoffBar() {
    if (!R.hbar) return;
    var st = S.handoff;
    var h = S.hinfo || { position: 0, eta: 0, agent: '' };
    var main = null;
    var mainP = null;
    var eta = null;
    if (st === 'queued') {
      if (h.position === 1) main = 'barNext';
      else if (h.position > 1) { main = 'barQueued'; mainP = { pos: h.position, ahead: h.position - 1 }; }
      else main = 'barQueuedNoPos';
      if (h.eta > 0) eta = { m: Math.max(1, Math.ceil(h.eta / 60)) };
    } else if (st === 'assigned') {
      if (h.agent) { main = 'barAssigned'; mainP = { agent: h.agent }; } else main = 'barAssignedNoName';
    }
    R.hbar.hidden = !main;
    R.hbar.className = 'xiaoer-hbar' + (st ? ' xiaoer-hbar-' + st : '');
    setText(R.hbarMain, main, mainP);
    setText(R.hbarEta, eta ? 'barEta' : null, eta);
  }

  // setText makes e show the text of key with params in the current
  // language (and follow language changes), or nothing when key is null.
  function setText(e, key, params) {
    if (!key) {
      e.removeAttribute('data-xi18n');
      e.removeAttribute('data-xi18n-p');
      e.textContent = '';
      return;
    }
    e.setAttribute('data-xi18n', key);
    if (params) e.setAttribute('data-xi18n-p', JSON.stringify(params));
    else e.removeAttribute('data-xi18n-p');
    e.textContent = t(key, params);
  }

  /* ---------- leaving a message (offline) ---------- */

  var EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@.]+$/;
  var PHONE_RE = /^[0-9+ -]{5,20}$/;

  // showLeaveForm adds, at the end of the chat, the form a shopper fills
  // in when nobody can take the conversation: the message, how to answer
  // (here, by e-mail or by phone) and the address or number. It sends a
  // leave_message with a fresh client_id, shown as a pending shopper
  // message; the ticket status removes the form.
  function showLeaveForm() {
    build();
    if (S.leave && S.leave.form.parentNode) {
      if (!S.leave.cid) insertNode(S.leave.form, 0, true); // move it to the end
      return;
    }
    var form = el('form', 'xiaoer-leave');
    form.noValidate = true;
    form.appendChild(tEl('div', 'xiaoer-leave-title', 'leaveTitle'));
    var text = el('textarea', 'xiaoer-leave-text');
    text.rows = 3;
    text.maxLength = MAX_LEN;
    text.setAttribute('data-xi18n-ph', 'leaveText');
    text.placeholder = t('leaveText');
    text.setAttribute('aria-label', t('leaveText'));
    form.appendChild(text);
    var viaRow = el('label', 'xiaoer-leave-via-row');
    viaRow.appendChild(tEl('span', 'xiaoer-leave-via-label', 'leaveVia'));
    var via = el('select', 'xiaoer-leave-via');
    [['chat', 'viaChat'], ['email', 'viaEmail'], ['phone', 'viaPhone']].forEach(function (o) {
      var opt = tEl('option', '', o[1]);
      opt.value = o[0];
      via.appendChild(opt);
    });
    viaRow.appendChild(via);
    form.appendChild(viaRow);
    var contact = el('input', 'xiaoer-leave-contact');
    contact.maxLength = 200;
    contact.hidden = true;
    form.appendChild(contact);
    var problem = el('div', 'xiaoer-leave-error');
    problem.setAttribute('role', 'alert');
    problem.hidden = true;
    form.appendChild(problem);
    var submit = tEl('button', 'xiaoer-leave-submit', 'leaveSubmit');
    submit.type = 'submit';
    form.appendChild(submit);

    var L = { form: form, text: text, via: via, contact: contact, problem: problem, submit: submit, cid: null };
    function showContact() {
      var v = via.value;
      contact.hidden = v === 'chat';
      contact.type = v === 'email' ? 'email' : v === 'phone' ? 'tel' : 'text';
      contact.autocomplete = v === 'email' ? 'email' : v === 'phone' ? 'tel' : 'off';
      var ph = v === 'email' ? 'leaveEmail' : 'leavePhone';
      contact.setAttribute('data-xi18n-ph', ph);
      contact.placeholder = t(ph);
      contact.setAttribute('aria-label', t(ph));
    }
    via.addEventListener('change', function () { showContact(); leaveProblem(L, null); });
    showContact();
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (L.cid) return;
      var body = text.value.replace(/^\s+|\s+$/g, '');
      var v = via.value;
      var c = v === 'chat' ? '' : contact.value.replace(/^\s+|\s+$/g, '');
      var digits = c.replace(/[^0-9]/g, '').length;
      if (!body) { leaveProblem(L, 'leaveNeedText'); text.focus(); return; }
      if (v === 'email' && !EMAIL_RE.test(c)) { leaveProblem(L, 'leaveBadEmail'); contact.focus(); return; }
      if (v === 'phone' && (!PHONE_RE.test(c) || digits < 5)) { leaveProblem(L, 'leaveBadPhone'); contact.focus(); return; }
      leaveProblem(L, null);
      L.cid = sendText(body, { via: v, contact: c });
      setLeaveBusy(L, !!L.cid);
    });
    S.leave = L;
    insertNode(form, 0, true);
    setTimeout(function () { try { text.focus({ preventScroll: true }); } catch (e) { text.focus(); } }, 0);
  }

  function leaveProblem(L, key, raw) {
    if (!key && raw == null) { L.problem.hidden = true; setText(L.problem, null); return; }
    L.problem.hidden = false;
    if (raw != null) { setText(L.problem, null); L.problem.textContent = raw; } else setText(L.problem, key);
  }

  function setLeaveBusy(L, busy) {
    L.form.classList.toggle('xiaoer-leave-sent', busy);
    [L.text, L.via, L.contact, L.submit].forEach(function (e) { e.disabled = busy; });
    setText(L.submit, busy ? 'leaveSending' : 'leaveSubmit');
  }

  function hideLeaveForm() {
    if (!S.leave) return;
    if (S.leave.form.parentNode) S.leave.form.parentNode.removeChild(S.leave.form);
    S.leave = null;
  }

  // leaveRefused gives the form back when the server refused the left
  // message (an invalid contact, say): the pending bubble goes, the form
  // shows why, and the next submit sends a fresh client_id.
  function leaveRefused(f) {
    var L = S.leave;
    var p = S.pending[L.cid];
    if (p) {
      clearTimeout(p.timer);
      delete S.pending[p.cid];
      S.order = S.order.filter(function (c) { return c !== p.cid; });
      if (p.el.parentNode) p.el.parentNode.removeChild(p.el);
    }
    L.cid = null;
    setLeaveBusy(L, false);
    if (f.message) leaveProblem(L, null, String(f.message)); else leaveProblem(L, 'errGeneric');
  }

  /* ---------- pre-chat choice ---------- */

  // showPrechat offers, before the first message, the assistant or a
  // person (hello.prechat). Either choice, or simply typing, removes it.
  function showPrechat() {
    if (S.prechatEl || !S.greetingEl) return;
    var box = el('div', 'xiaoer-prechat');
    var ask = tEl('button', 'xiaoer-prechat-ask', 'prechatAsk');
    ask.type = 'button';
    var human = tEl('button', 'xiaoer-prechat-human', 'prechatHuman');
    human.type = 'button';
    human.insertBefore(icon('headset'), human.firstChild);
    ask.addEventListener('click', function () {
      dismissPrechat();
      try { R.input.focus({ preventScroll: true }); } catch (e) { R.input.focus(); }
    });
    human.addEventListener('click', function () {
      dismissPrechat();
      requestHuman();
    });
    box.appendChild(ask);
    box.appendChild(human);
    S.greetingEl.classList.add('xiaoer-greeting-prechat');
    S.greetingEl.appendChild(box);
    S.prechatEl = box;
  }

  function dismissPrechat() {
    S.prechatDone = true;
    if (!S.prechatEl) return;
    if (S.prechatEl.parentNode) S.prechatEl.parentNode.removeChild(S.prechatEl);
    if (S.greetingEl) S.greetingEl.classList.remove('xiaoer-greeting-prechat');
    S.prechatEl = null;
  }

  function onError(f) {
    hideTyping();
    if (S.leave && S.leave.cid && f.client_id === S.leave.cid) { leaveRefused(f); return; }
    if (f.client_id != null) delete S.awaiting[String(f.client_id)];
    var p = f.client_id != null && S.pending[f.client_id];
    if (p) { clearTimeout(p.timer); setPendingState(p, 'failed'); }
    var code = String(f.code || '');
    if (code === 'invalid_return' || code === 'not_found' || code === 'login_required') stopReturnWaits();
    // Errors the widget knows are told in the widget's own language; the
    // server's text is for the others.
    var known = { busy: 'errBusy', too_long: 'errTooLong' }[code];
    var msg = f.message ? String(f.message) : null;
    if (known) addNotice(known, null, 'xiaoer-error');
    else if (msg) addNotice(null, null, 'xiaoer-error', msg);
    else addNotice('errGeneric', null, 'xiaoer-error');
  }

  function handleFrame(f) {
    if (!f || typeof f !== 'object') return;
    switch (f.type) {
      case 'hello': onHello(f); break;
      case 'ack': onAck(f); break;
      case 'message': onMessage(f); break;
      case 'delta': onDelta(f); break;
      case 'typing': showTyping(f.role === 'agent' ? 'agent' : 'bot'); break;
      case 'handoff': onHandoff(f); break;
      case 'error': onError(f); break;
      default: break;
    }
  }

  /* ------------------------------------------------------------------ */
  /* Handoff & rating                                                    */
  /* ------------------------------------------------------------------ */

  // updateHumanButton keeps the header's "talk to a person" button, shown
  // at every turn, disabled only while a person has or is about to have
  // the conversation.
  function updateHumanButton() {
    if (!R.human) return;
    var busy = S.handoff === 'queued' || S.handoff === 'assigned' || S.handoff === 'requested';
    R.human.disabled = busy;
    R.human.classList.toggle('xiaoer-human-active', busy);
  }

  function requestHuman() {
    if (S.handoff === 'queued' || S.handoff === 'assigned' || S.handoff === 'requested') return;
    S.handoff = 'requested';
    updateHumanButton();
    sendControl({ type: 'handoff' });
    // If nothing comes back (e.g. connection trouble), allow trying again.
    setTimeout(function () {
      if (S.handoff === 'requested') { S.handoff = null; updateHumanButton(); }
    }, 15000);
  }

  // buildRating is the 1-5 rating shown with a bot message carrying a
  // rating card (id is that message's id); a prompt already answered
  // shows thanks.
  function buildRating(id) {
    var box = el('div', 'xiaoer-rating');
    if (id && ratedGiven[id]) {
      box.classList.add('xiaoer-rating-done');
      box.appendChild(tEl('div', 'xiaoer-rating-title', 'rateThanks'));
      return box;
    }
    box.appendChild(tEl('div', 'xiaoer-rating-title', 'rateTitle'));
    var stars = el('div', 'xiaoer-stars');
    stars.setAttribute('role', 'radiogroup');
    var score = 0;
    var btns = [];
    var comment = el('textarea', 'xiaoer-rating-comment');
    comment.rows = 2;
    comment.maxLength = 500;
    comment.setAttribute('data-xi18n-ph', 'rateComment');
    comment.placeholder = t('rateComment');
    var submit = tEl('button', 'xiaoer-rating-submit', 'rateSubmit');
    submit.type = 'button';
    submit.disabled = true;
    function paint(n) {
      btns.forEach(function (b, i) { b.classList.toggle('xiaoer-star-on', i < n); });
    }
    for (var i = 1; i <= 5; i++) {
      (function (n) {
        var b = el('button', 'xiaoer-star');
        b.type = 'button';
        b.setAttribute('role', 'radio');
        b.setAttribute('aria-checked', 'false');
        b.setAttribute('aria-label', t('star', { n: n }));
        b.appendChild(icon('star'));
        b.addEventListener('click', function () {
          score = n;
          paint(n);
          btns.forEach(function (x, j) { x.setAttribute('aria-checked', j + 1 === n ? 'true' : 'false'); });
          submit.disabled = false;
          box.classList.add('xiaoer-rating-picked');
        });
        b.addEventListener('mouseenter', function () { paint(n); });
        b.addEventListener('mouseleave', function () { paint(score); });
        btns.push(b);
        stars.appendChild(b);
      })(i);
    }
    submit.addEventListener('click', function () {
      if (!score) return;
      var fr = { type: 'rating', score: score };
      var c = comment.value.replace(/^\s+|\s+$/g, '');
      if (c) fr.comment = c;
      sendControl(fr);
      saveRated(id, score);
      box.textContent = '';
      box.classList.add('xiaoer-rating-done');
      box.appendChild(tEl('div', 'xiaoer-rating-title', 'rateThanks'));
    });
    box.appendChild(stars);
    box.appendChild(comment);
    box.appendChild(submit);
    return box;
  }

  /* ------------------------------------------------------------------ */
  /* Privacy menu: consent, download and delete (docs/privacy.md)        */
  /* ------------------------------------------------------------------ */

  function meURL(path) {
    return serverURL.origin + serverURL.pathname.replace(/\/+$/, '') + '/api/v1/me/' + path;
  }

  // meFetch calls the shopper's own API with their token; it resolves to
  // the response, and rejects when it is not 2xx.
  function meFetch(method, path, body) {
    var opts = { method: method, headers: { 'Authorization': 'Bearer ' + S.token }, credentials: 'omit', cache: 'no-store' };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    return fetch(meURL(path), opts).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r;
    });
  }

  function buildMenu() {
    var menu = el('div', 'xiaoer-menu');
    menu.id = 'xiaoer-menu';
    menu.hidden = true;
    menu.appendChild(tEl('div', 'xiaoer-menu-title', 'menuTitle'));

    var pz = el('label', 'xiaoer-switch-row');
    var sw = el('input', 'xiaoer-switch');
    sw.type = 'checkbox';
    sw.setAttribute('role', 'switch');
    sw.checked = false; // off until the stored value says otherwise
    sw.addEventListener('change', function () { setPersonalize(sw.checked); });
    var pzText = el('span', 'xiaoer-switch-text');
    pzText.appendChild(tEl('span', 'xiaoer-switch-title', 'pzTitle'));
    pzText.appendChild(tEl('span', 'xiaoer-switch-help', 'pzHelp'));
    pz.appendChild(sw);
    pz.appendChild(pzText);
    menu.appendChild(pz);
    R.pzSwitch = sw;

    var dl = button('xiaoer-menu-item xiaoer-download');
    dl.appendChild(tEl('span', '', 'download'));
    dl.addEventListener('click', downloadData);
    menu.appendChild(dl);
    R.downloadBtn = dl;

    var del = button('xiaoer-menu-item xiaoer-delete');
    del.appendChild(tEl('span', '', 'deleteData'));
    del.addEventListener('click', function () { R.deleteConfirm.hidden = false; del.hidden = true; R.deleteYes.focus(); });
    menu.appendChild(del);
    R.deleteBtn = del;

    var confirm = el('div', 'xiaoer-delete-confirm');
    confirm.setAttribute('role', 'alertdialog');
    confirm.hidden = true;
    confirm.appendChild(tEl('p', 'xiaoer-delete-ask', 'deleteAsk'));
    var yes = tEl('button', 'xiaoer-delete-yes', 'deleteYes');
    yes.type = 'button';
    yes.addEventListener('click', deleteData);
    var no = tEl('button', 'xiaoer-delete-no', 'deleteNo');
    no.type = 'button';
    no.addEventListener('click', function () { confirm.hidden = true; del.hidden = false; del.focus(); });
    confirm.appendChild(yes);
    confirm.appendChild(no);
    menu.appendChild(confirm);
    R.deleteConfirm = confirm;
    R.deleteYes = yes;

    R.menuStatus = el('div', 'xiaoer-menu-status');
    R.menuStatus.setAttribute('aria-live', 'polite');
    menu.appendChild(R.menuStatus);
    R.menu = menu;
    return menu;
  }

  // updateMenu shows the menu button to verified shoppers only.
  function updateMenu() {
    if (!R.menuBtn) return;
    var show = !!(S.token && S.shopper);
    R.menuBtn.hidden = !show;
    if (!show) closeMenu();
  }

  function menuStatus(key) {
    if (!R.menuStatus) return;
    if (!key) { R.menuStatus.textContent = ''; R.menuStatus.removeAttribute('data-xi18n'); return; }
    R.menuStatus.setAttribute('data-xi18n', key);
    R.menuStatus.textContent = t(key);
  }

  function closeMenu() {
    if (!R.menu) return;
    R.menu.hidden = true;
    R.menuBtn.setAttribute('aria-expanded', 'false');
  }

  function toggleMenu() {
    if (!R.menu.hidden) { closeMenu(); return; }
    R.menu.hidden = false;
    R.menuBtn.setAttribute('aria-expanded', 'true');
    R.deleteConfirm.hidden = true;
    R.deleteBtn.hidden = false;
    menuStatus(null);
    R.pzSwitch.disabled = true;
    meFetch('GET', 'consent').then(function (r) { return r.json(); }).then(function (st) {
      R.pzSwitch.checked = !!(st && st.personalize === true);
      R.pzSwitch.disabled = false;
    }, function () {
      R.pzSwitch.disabled = false;
      menuStatus('privacyFailed');
    });
  }

  function setPersonalize(on) {
    R.pzSwitch.disabled = true;
    menuStatus(null);
    meFetch('PUT', 'consent', { personalize: on, source: 'widget' }).then(function (r) { return r.json(); }).then(function (st) {
      R.pzSwitch.checked = !!(st && st.personalize === true);
      R.pzSwitch.disabled = false;
    }, function () {
      R.pzSwitch.checked = !on;
      R.pzSwitch.disabled = false;
      menuStatus('privacyFailed');
    });
  }

  function downloadData() {
    R.downloadBtn.disabled = true;
    menuStatus('downloading');
    meFetch('GET', 'data').then(function (r) {
      var cd = r.headers.get('Content-Disposition') || '';
      var m = /filename="([A-Za-z0-9._-]+)"/.exec(cd);
      var name = m ? m[1] : 'xiaoer-data.json';
      return r.blob().then(function (b) { return { blob: b, name: name }; });
    }).then(function (d) {
      var url = URL.createObjectURL(d.blob);
      var a = document.createElement('a');
      a.href = url;
      a.download = d.name;
      a.style.display = 'none';
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(url); a.remove(); }, 1000);
      R.downloadBtn.disabled = false;
      menuStatus('downloaded');
    }, function () {
      R.downloadBtn.disabled = false;
      menuStatus('privacyFailed');
    });
  }

  // deleteData erases the shopper's data once they confirmed, then clears
  // the transcript and starts afresh.
  function deleteData() {
    R.deleteYes.disabled = true;
    menuStatus('deleting');
    meFetch('DELETE', 'data', { confirm: true }).then(function () {
      R.deleteYes.disabled = false;
      dataDeleted();
    }, function () {
      R.deleteYes.disabled = false;
      menuStatus('privacyFailed');
    });
  }

  // dataDeleted forgets the conversation after the shopper's data was
  // erased, here or in another tab (the server closes every chat socket of
  // the conversation with code 4410): the transcript is cleared, the
  // shopper told, and a new conversation started.
  function dataDeleted() {
    disconnect();
    var key = S.shopper ? NS + 'conv.' + S.shopper.id : expectedConvKey();
    // Another tab may already have stored its new conversation there.
    if (key && (!S.conv || lsGet(key) === S.conv)) {
      try { window.localStorage.removeItem(key); } catch (e) { /* ignore */ }
    }
    S.conv = null;
    S.ctrlQueue = [];
    clearList();
    closeMenu();
    addNotice('deleted', null, 'xiaoer-notice-deleted');
    S.attempts = 0;
    connect();
  }

  /* ------------------------------------------------------------------ */
  /* Socket                                                              */
  /* ------------------------------------------------------------------ */

  function wsSend(obj) {
    if (S.ws && S.ws.readyState === 1 && S.connected) {
      try { S.ws.send(JSON.stringify(obj)); return true; } catch (e) { return false; }
    }
    return false;
  }

  function sendControl(obj) {
    if (!wsSend(obj)) { S.ctrlQueue.push(obj); ensureConnecting(); }
  }

  function expectedConvKey() {
    if (!S.token) return NS + 'conv.v:' + visitor;
    var sid = lsGet(NS + 'tok.' + fnv(S.token)) || shopperFromToken(S.token);
    return sid ? NS + 'conv.' + sid : null;
  }

  function wsURL(conv, after) {
    var p = new URLSearchParams();
    if (S.token) p.set('token', S.token);
    p.set('visitor', visitor);
    if (conv) p.set('conversation', conv);
    p.set('after', String(after || 0));
    if (S.langExplicit) p.set('lang', S.lang);
    var proto = serverURL.protocol === 'https:' ? 'wss' : 'ws';
    var path = serverURL.pathname.replace(/\/+$/, '');
    return proto + '://' + serverURL.host + path + '/ws/chat?' + p.toString();
  }

  function connect() {
    clearTimeout(S.retryTimer);
    S.retryTimer = null;
    if (S.ws) return;
    S.started = true;
    var gen = ++S.gen;
    var conv = S.conv;
    var after = S.conv ? S.highestSeq : 0;
    if (!conv) {
      var key = expectedConvKey();
      conv = key ? lsGet(key) : null;
      after = 0;
    }
    setStatus(S.everConnected ? 'reconnecting' : 'connecting');
    var ws;
    try {
      ws = new WebSocket(wsURL(conv, after));
    } catch (e) {
      scheduleReconnect();
      return;
    }
    S.ws = ws;
    ws.onmessage = function (ev) {
      if (gen !== S.gen) return;
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      try { handleFrame(f); } catch (e) { if (window.console) console.error('xiaoer:', e); }
    };
    ws.onclose = function (ev) {
      if (gen !== S.gen) return;
      if (ev && ev.code === 4410) { dataDeleted(); return; } // erased, maybe in another tab
      S.ws = null;
      var was = S.connected;
      S.connected = false;
      hideTyping();
      dropStreams();
      if (S.handoff === 'requested') { S.handoff = null; updateHumanButton(); }
      Object.keys(S.pending).forEach(function (cid) {
        var p = S.pending[cid];
        if (p.state === 'sending') { clearTimeout(p.timer); setPendingState(p, 'waiting'); }
      });
      setStatus('reconnecting');
      if (was) S.attempts = 0;
      scheduleReconnect();
    };
    ws.onerror = function () { /* onclose follows */ };
  }

  function scheduleReconnect() {
    clearTimeout(S.retryTimer);
    var base = Math.min(10000, 500 * Math.pow(2, S.attempts));
    S.attempts++;
    var delay = Math.min(10000, base * (0.8 + Math.random() * 0.4));
    S.retryTimer = setTimeout(function () { S.retryTimer = null; connect(); }, delay);
  }

  function ensureConnecting() {
    if (!S.ws && !S.retryTimer) connect();
  }

  function disconnect() {
    S.gen++;
    clearTimeout(S.retryTimer);
    S.retryTimer = null;
    var ws = S.ws;
    S.ws = null;
    S.connected = false;
    dropStreams();
    if (!ws) return;
    if (ws.readyState === 0) {
      // Closing a socket still connecting makes the browser report an
      // error; let it open, then close it (its handlers are stale by gen).
      ws.onopen = function () { try { ws.close(1000, 'client'); } catch (e) { /* ignore */ } };
      return;
    }
    try { ws.close(1000, 'client'); } catch (e) { /* ignore */ }
  }

  window.addEventListener('online', function () {
    if (S.started && !S.ws) { S.attempts = 0; connect(); }
  });
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && S.started && !S.ws && S.retryTimer) {
      S.attempts = 0;
      connect();
    }
  });

  /* ------------------------------------------------------------------ */
  /* Public API                                                          */
  /* ------------------------------------------------------------------ */

  var api = {
    _xiaoer: true,
    // _md renders text as a bot answer, detached, for tests.
    _md: function (text) { return mdBlock(text); },
    open: function () {
      if (!S.built) { S.wantOpen = true; return; }
      S.isOpen = true;
      R.root.classList.add('xiaoer-is-open');
      R.panel.setAttribute('aria-hidden', 'false');
      R.launcher.setAttribute('aria-expanded', 'true');
      setUnread(0);
      ssSet(NS + 'open', '1');
      ensureConnecting();
      scrollBottom();
      var fine = window.matchMedia && window.matchMedia('(pointer: fine)').matches;
      if (fine) setTimeout(function () { try { R.input.focus({ preventScroll: true }); } catch (e) { R.input.focus(); } }, 60);
    },
    close: function () {
      S.wantOpen = false;
      if (!S.built) return;
      S.isOpen = false;
      R.root.classList.remove('xiaoer-is-open');
      R.panel.setAttribute('aria-hidden', 'true');
      R.launcher.setAttribute('aria-expanded', 'false');
      ssSet(NS + 'open', '0');
    },
    setIdentity: function (ident) {
      var tok = ident && ident.token ? String(ident.token) : null;
      var wasActive = S.started || S.isOpen || S.wantOpen;
      disconnect();
      S.token = tok;
      S.shopper = null;
      S.conv = null;
      updateMenu();
      S.everConnected = false;
      S.attempts = 0;
      S.ctrlQueue = [];
      clearList();
      setStatus('idle');
      if (wasActive) connect();
    },
    getLang: function () { return S.lang; },
    setLang: function (lang) {
      var l = normLang(lang);
      if (!l) return;
      var was = S.langExplicit;
      S.langExplicit = true;
      if (l === S.lang && was) return;
      S.lang = l;
      applyLang();
      if (S.ws || S.retryTimer) { disconnect(); S.attempts = 0; connect(); } // let the server know
    }
  };
  window.Xiaoer = api;

  /* ------------------------------------------------------------------ */
  /* Start                                                               */
  /* ------------------------------------------------------------------ */

  function start() {
    build();
    var openAttr = String(attr('data-open') || '').toLowerCase() === 'true';
    if (openAttr || S.wantOpen || ssGet(NS + 'open') === '1') {
      api.open();
    } else {
      // Returning shopper/visitor with a conversation: connect to pick up replies.
      var key = expectedConvKey();
      if (key && lsGet(key)) connect();
    }
  }

  // Start once the page is parsed, so that a page script after the widget's
  // tag can still set the identity (setIdentity) before the first connection.
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
