/*
 * Xiaoer (小二) human-agent console, served at /console/.
 *
 * Plain JavaScript, no dependencies, no build step. It talks only to the
 * server's own API (docs/console-api.md, /api/v1/auth/*) and to the agent
 * socket /ws/agent. Everything the server sends is put on the page with
 * textContent or as attribute values, never as HTML, and the page has no
 * inline script or style (the CSP forbids both).
 *
 * The login, the fetch helper and the i18n approach are the admin page's
 * (web/static/admin/admin.js), copied rather than shared so that each page
 * can change on its own.
 */
(function () {
  'use strict';

  var API = '/api/v1/console';
  var LANG_KEY = 'xiaoer-console.lang';
  var BOARD_DEBOUNCE_MS = 200;
  var BOARD_EVERY_MS = 30000;
  var TYPING_EVERY_MS = 1500;
  var TYPING_SHOWN_MS = 4000;

  /* ------------------------------------------------------------------ */
  /* i18n                                                                */
  /* ------------------------------------------------------------------ */

  var I18N = {
    zh: {
      brand: '小二 · 客服工作台',
      langSwitch: 'English', logout: '退出登录',
      roleAdmin: '管理员', roleEditor: '编辑', roleAgent: '客服',
      loginTitle: '登录客服工作台', loginHint: '使用员工账号登录。', username: '用户名', password: '密码',
      login: '登录', loggingIn: '正在登录…',
      errCredentials: '用户名或密码不正确。', errLocked: '登录失败次数过多，账号已暂时锁定，请稍后再试。',
      errLockedFor: '登录失败次数过多，账号已锁定，请在 {n} 分钟后再试。',
      errCsrf: '安全校验失败，请刷新页面后重试。', errUnauthenticated: '登录已过期，请重新登录。',
      errForbidden: '您的账号没有权限执行此操作。', errNotFound: '找不到该会话，或您无权查看（可能已被他人接入）。',
      errTooLarge: '内容过大。', errNetwork: '无法连接服务器，请检查网络后重试。',
      errInternal: '服务器出错了，请稍后再试。', errInvalid: '输入有问题，未保存任何内容。',
      errStatus: '请求失败（HTTP {n}）。', errMissingRoute: '服务器没有提供此功能（HTTP 404）。',
      errTaken: '这个会话已被其他客服接入。', errNotYours: '这个会话没有分配给您。',
      errNoAgent: '该客服现在无法接收（不在线、未打开工作台或已满）。', errNoModel: '未配置 AI 模型，无法起草回复。',
      errShortcutTaken: '这个快捷短语已被使用。',
      serverSays: '服务器信息：',
      noAccessTitle: '无权使用客服工作台',
      noAccessText: '{name}，您的角色是「{role}」，不能接待顾客会话。如需接待，请联系管理员将您设为「客服」或「管理员」。',
      fatalTitle: '页面无法加载', retry: '重试',
      presence: '在线状态', presOnline: '在线', presAway: '离开', presOffline: '离线',
      loadTitle: '当前接待 / 最多接待',
      connOnline: '已连接', connConnecting: '正在连接…', connOffline: '连接断开，正在重连…',
      boardTitle: '会话列表', tickets: '留言', queue: '排队中', mine: '我的会话',
      noTickets: '没有待处理的留言。', noQueue: '没有排队的顾客。', noMine: '您还没有接待中的会话。',
      outsideHours: '现在是非服务时间：新的转人工请求会转为留言。',
      visitor: '访客', waited: '已等 {t}', justNow: '刚刚', minutes: '{n} 分钟', hours: '{h} 小时 {m} 分',
      position: '第 {n} 位', unread: '有新消息',
      claim: '接入', claiming: '正在接入…',
      pickConversation: '从左侧选择一个会话。',
      tier_gold: '金卡会员', tier_silver: '银卡会员', tier_platinum: '白金会员', tier_bronze: '铜卡会员', tier_vip: 'VIP', tier_svip: 'SVIP',
      lang_zh: '中文', lang_en: '英文',
      trig_shopper_button: '顾客点了人工按钮', trig_shopper_asked: '顾客要求转人工', trig_bot_escalated: '机器人转交',
      trig_tier: '会员直达人工', trig_shopper_upset: '顾客情绪激动', trig_bot_unsure: '机器人连续答不上来',
      trig_sensitive_complaint: '敏感：投诉', trig_sensitive_legal: '敏感：法律', trig_sensitive_payment_dispute: '敏感：支付争议',
      trig_sensitive_safety: '敏感：人身安全', trig_sensitive_data_deletion: '敏感：删除个人信息', trig_sensitive: '敏感事项',
      st_queued: '排队中', st_assigned: '接待中', st_ticket: '留言', st_closed: '已结束',
      assignedTo: '由 {name} 接待', assignedToMe: '由我接待',
      transferTo: '转给', transfer: '转接', toQueue: '退回队列', transferDone: '已转接。',
      resolution: '结束原因', closeCase: '结束会话', closed: '会话已结束（{r}）。',
      res_resolved: '已解决', res_unresolved: '未解决', res_follow_up: '需跟进', res_spam: '垃圾消息', res_duplicate: '重复',
      summaryTitle: '交接摘要', summaryAI: 'AI 摘要', sumTrigger: '转人工原因', sumQuestions: '最近的问题',
      sumOrders: '提到的订单', sumEntries: '机器人用过的知识', none: '无',
      ticketTitle: '顾客留言', contactVia: '联系方式', via_chat: '在对话中回复', via_email: '邮件', via_phone: '电话',
      revealContact: '显示联系方式',
      roleAI: 'AI', botName: '小二', you: '我', systemLabel: '系统',
      noteLabel: '内部备注', noteBy: '内部备注 · {name} · 顾客看不到',
      cardRating: '已邀请顾客评价本次服务', orderTotal: '合计 {t}', returnCard: '退货 · {s}',
      sourcesLabel: '依据：',
      noteToggle: '内部备注', composerHint: 'Enter 发送 · Shift+Enter 换行 · 输入 / 使用快捷回复',
      replyPlaceholder: '输入回复…', notePlaceholder: '写一条内部备注（顾客看不到）…',
      send: '发送', addNote: '添加备注', sending: '正在发送…',
      notMineText: '这个会话由 {name} 接待，您只能查看。', queuedText: '接入后才能回复。', closedText: '会话已结束，不能再回复。',
      typingShopper: '顾客正在输入…',
      suggestions: '回复建议', suggestFor: '针对：{q}', noSuggestions: '没有找到相关的知识条目。', insert: '插入',
      draft: 'AI 起草', drafting: '正在起草…', draftNone: '未配置 AI 模型，无法起草回复。',
      profile: '顾客资料', reveal: '显示完整信息', revealing: '正在获取…',
      revealNote: '手机号、邮箱、地址以及对话里的个人信息默认打码。点「显示完整信息」会被记入审计日志（谁、何时、看了哪些字段）。',
      revealed: '已显示（已记入审计日志）',
      pName: '姓名', pTier: '会员等级', pPoints: '积分', pLang: '语言', pInterests: '兴趣', pPhone: '手机', pEmail: '邮箱', pAddress: '地址',
      pSegment: '客户分群', pOrders: '订单数', pLastOrder: '最近下单', pAOV: '客单价', pFavCategories: '常买品类', daysAgo: '{n} 天前',
      seg_prospect: '潜在客户', seg_new: '新客', seg_high_value: '高价值', seg_loyal: '忠实客户', seg_at_risk: '流失风险', seg_lapsed: '已流失', seg_regular: '普通客户',
      visitorProfile: '匿名访客：没有资料和订单。',
      orders: '订单', noOrders: '没有订单。', tracking: '物流',
      os_unpaid: '待付款', os_paid: '已付款', os_shipped: '已发货', os_delivered: '已签收', os_refunded: '已退款', os_cancelled: '已取消',
      cannedManage: '快捷回复', closeDialog: '关闭', cShortcut: '快捷短语', cLang: '语言', cTitle: '标题', cText: '内容',
      colActions: '操作', cNew: '新建', cEdit: '编辑', cDelete: '删除', cConfirmDelete: '确认删除？',
      cNewTitle: '新建快捷回复', cEditTitle: '编辑 /{s}', cLangBoth: '中英通用', cEmpty: '还没有快捷回复。',
      save: '保存', saved: '已保存。', deleted: '已删除。', cNeed: '请填写快捷短语（小写字母、数字、_ 或 -）和内容。',
      newAssigned: '新会话已分配给您。', colon: '：'
    },
    en: {
      brand: 'Xiaoer · Agent console',
      langSwitch: '中文', logout: 'Sign out',
      roleAdmin: 'Admin', roleEditor: 'Editor', roleAgent: 'Agent',
      loginTitle: 'Sign in to the agent console', loginHint: 'Use your staff account.', username: 'Username', password: 'Password',
      login: 'Sign in', loggingIn: 'Signing in…',
      errCredentials: 'Wrong username or password.', errLocked: 'Too many failed sign-ins: the account is locked for a while. Try again later.',
      errLockedFor: 'Too many failed sign-ins: the account is locked. Try again in {n} minutes.',
      errCsrf: 'The security check failed. Reload the page and try again.', errUnauthenticated: 'Your session has ended. Please sign in again.',
      errForbidden: 'Your account may not do this.', errNotFound: 'This conversation does not exist or is not yours to see (another agent may have taken it).',
      errTooLarge: 'Too large.', errNetwork: 'Cannot reach the server. Check the network and try again.',
      errInternal: 'The server failed. Try again later.', errInvalid: 'Something in the input is wrong; nothing was saved.',
      errStatus: 'The request failed (HTTP {n}).', errMissingRoute: 'The server does not offer this (HTTP 404).',
      errTaken: 'Another agent has taken this conversation.', errNotYours: 'This conversation is not assigned to you.',
      errNoAgent: 'That agent cannot take it now (offline, no console open, or full).', errNoModel: 'No AI model is configured, so no draft.',
      errShortcutTaken: 'That shortcut is already used.',
      serverSays: 'The server says: ',
      noAccessTitle: 'No access to the agent console',
      noAccessText: '{name}, your role is “{role}”, which does not answer shoppers. Ask an admin to make you an agent or an admin.',
      fatalTitle: 'The page could not load', retry: 'Retry',
      presence: 'Presence', presOnline: 'Online', presAway: 'Away', presOffline: 'Offline',
      loadTitle: 'Conversations now / at most',
      connOnline: 'Connected', connConnecting: 'Connecting…', connOffline: 'Disconnected, reconnecting…',
      boardTitle: 'Conversations', tickets: 'Messages left', queue: 'Queue', mine: 'My conversations',
      noTickets: 'No messages waiting.', noQueue: 'Nobody is waiting.', noMine: 'You have no conversations yet.',
      outsideHours: 'Outside service hours: new requests for a person become left messages.',
      visitor: 'Visitor', waited: 'waiting {t}', justNow: 'just now', minutes: '{n} min', hours: '{h} h {m} min',
      position: '#{n}', unread: 'New messages',
      claim: 'Claim', claiming: 'Claiming…',
      pickConversation: 'Pick a conversation on the left.',
      tier_gold: 'Gold member', tier_silver: 'Silver member', tier_platinum: 'Platinum member', tier_bronze: 'Bronze member', tier_vip: 'VIP', tier_svip: 'SVIP',
      lang_zh: 'Chinese', lang_en: 'English',
      trig_shopper_button: 'Pressed the agent button', trig_shopper_asked: 'Asked for a person', trig_bot_escalated: 'Handed over by the bot',
      trig_tier: 'Member tier goes to a person', trig_shopper_upset: 'Shopper upset', trig_bot_unsure: 'Bot unsure twice',
      trig_sensitive_complaint: 'Sensitive: complaint', trig_sensitive_legal: 'Sensitive: legal', trig_sensitive_payment_dispute: 'Sensitive: payment dispute',
      trig_sensitive_safety: 'Sensitive: safety', trig_sensitive_data_deletion: 'Sensitive: delete my data', trig_sensitive: 'Sensitive matter',
      st_queued: 'Queued', st_assigned: 'Assigned', st_ticket: 'Left message', st_closed: 'Closed',
      assignedTo: 'with {name}', assignedToMe: 'with me',
      transferTo: 'Transfer to', transfer: 'Transfer', toQueue: 'Back to the queue', transferDone: 'Transferred.',
      resolution: 'Resolution', closeCase: 'Close', closed: 'Closed ({r}).',
      res_resolved: 'Resolved', res_unresolved: 'Unresolved', res_follow_up: 'Follow up', res_spam: 'Spam', res_duplicate: 'Duplicate',
      summaryTitle: 'Handoff summary', summaryAI: 'AI summary', sumTrigger: 'Why a person', sumQuestions: 'Last questions',
      sumOrders: 'Orders mentioned', sumEntries: 'Knowledge the bot tried', none: 'none',
      ticketTitle: 'Message left', contactVia: 'Contact', via_chat: 'reply in the chat', via_email: 'e-mail', via_phone: 'phone',
      revealContact: 'Reveal contact',
      roleAI: 'AI', botName: 'Xiaoer', you: 'me', systemLabel: 'System',
      noteLabel: 'Internal note', noteBy: 'Internal note · {name} · the shopper never sees it',
      cardRating: 'The shopper was asked to rate this chat', orderTotal: 'total {t}', returnCard: 'Return · {s}',
      sourcesLabel: 'From: ',
      noteToggle: 'Internal note', composerHint: 'Enter sends · Shift+Enter new line · type / for canned replies',
      replyPlaceholder: 'Type a reply…', notePlaceholder: 'Write an internal note (the shopper never sees it)…',
      send: 'Send', addNote: 'Add note', sending: 'Sending…',
      notMineText: '{name} has this conversation: you can only read it.', queuedText: 'Claim it to reply.', closedText: 'This conversation is closed.',
      typingShopper: 'The shopper is typing…',
      suggestions: 'Suggested replies', suggestFor: 'For: {q}', noSuggestions: 'No matching knowledge entries.', insert: 'Insert',
      draft: 'Draft with AI', drafting: 'Drafting…', draftNone: 'No AI model is configured, so no drafts.',
      profile: 'Shopper', reveal: 'Reveal', revealing: 'Revealing…',
      revealNote: 'Phone, e-mail, address and personal data in the chat are masked. Reveal is recorded in the audit log (who, when, which fields).',
      revealed: 'Revealed (recorded in the audit log)',
      pName: 'Name', pTier: 'Tier', pPoints: 'Points', pLang: 'Language', pInterests: 'Interests', pPhone: 'Phone', pEmail: 'E-mail', pAddress: 'Address',
      pSegment: 'Segment', pOrders: 'Orders', pLastOrder: 'Last order', pAOV: 'Avg. order', pFavCategories: 'Buys most', daysAgo: '{n} days ago',
      seg_prospect: 'Prospect', seg_new: 'New', seg_high_value: 'High value', seg_loyal: 'Loyal', seg_at_risk: 'At risk', seg_lapsed: 'Lapsed', seg_regular: 'Regular',
      visitorProfile: 'Anonymous visitor: no profile, no orders.',
      orders: 'Orders', noOrders: 'No orders.', tracking: 'Tracking',
      os_unpaid: 'Unpaid', os_paid: 'Paid', os_shipped: 'Shipped', os_delivered: 'Delivered', os_refunded: 'Refunded', os_cancelled: 'Cancelled',
      cannedManage: 'Canned replies', closeDialog: 'Close', cShortcut: 'Shortcut', cLang: 'Language', cTitle: 'Title', cText: 'Text',
      colActions: 'Actions', cNew: 'New', cEdit: 'Edit', cDelete: 'Delete', cConfirmDelete: 'Really delete?',
      cNewTitle: 'New canned reply', cEditTitle: 'Edit /{s}', cLangBoth: 'Both languages', cEmpty: 'No canned replies yet.',
      save: 'Save', saved: 'Saved.', deleted: 'Deleted.', cNeed: 'Fill in the shortcut (a-z, 0-9, _ or -) and the text.',
      newAssigned: 'A new conversation was assigned to you.', colon: ': '
    }
  };

  function lsGet(k) { try { return window.localStorage.getItem(k); } catch (e) { return null; } }
  function lsSet(k, v) { try { window.localStorage.setItem(k, v); } catch (e) { /* private mode */ } }

  function pickLang() {
    var saved = lsGet(LANG_KEY);
    if (saved === 'zh' || saved === 'en') return saved;
    var langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ''];
    for (var i = 0; i < langs.length; i++) {
      var l = String(langs[i]).toLowerCase();
      if (l.indexOf('zh') === 0) return 'zh';
      if (l.indexOf('en') === 0) return 'en';
    }
    return 'en';
  }

  var lang = pickLang();

  function t(key, params) {
    var s = I18N[lang][key];
    if (s == null) s = I18N.en[key];
    if (s == null) return key;
    if (params) {
      s = s.replace(/\{(\w+)\}/g, function (m, k) { return params[k] != null ? String(params[k]) : m; });
    }
    return s;
  }

  // tOr translates prefix+value, or shows the value itself when the table
  // has no word for it (a trigger or tier this page does not know yet).
  function tOr(prefix, value) {
    if (!value) return '';
    var k = prefix + value;
    if (I18N[lang][k] != null || I18N.en[k] != null) return t(k);
    if (prefix === 'trig_' && String(value).indexOf('sensitive_') === 0) return t('trig_sensitive') + ' (' + String(value).slice(10) + ')';
    return String(value);
  }

  /* ------------------------------------------------------------------ */
  /* DOM helpers: text only, never HTML                                  */
  /* ------------------------------------------------------------------ */

  function $(id) { return document.getElementById(id); }

  // h builds an element. props: class, text, and any attribute (data-*,
  // aria-*, type, ...); children are nodes or strings (as text).
  function h(tag, props) {
    var e = document.createElement(tag);
    if (props) {
      for (var k in props) {
        if (!Object.prototype.hasOwnProperty.call(props, k)) continue;
        var v = props[k];
        if (v == null || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = String(v);
        else e.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (var i = 2; i < arguments.length; i++) append(e, arguments[i]);
    return e;
  }

  function append(parent, c) {
    if (c == null || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { append(parent, x); }); return; }
    parent.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }

  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
  function show(e, on) { e.hidden = !on; }

  function button(text, props) {
    var p = { type: 'button', class: 'btn btn-small' };
    for (var k in props) if (Object.prototype.hasOwnProperty.call(props, k)) p[k] = props[k];
    p.text = text;
    return h('button', p);
  }

  function fillSelect(sel, options) {
    var keep = sel.value;
    clear(sel);
    options.forEach(function (o) { sel.appendChild(h('option', { value: o[0], text: o[1] })); });
    if (options.some(function (o) { return String(o[0]) === keep; })) sel.value = keep;
  }

  function pad(n) { return n < 10 ? '0' + n : String(n); }

  function validTime(iso) {
    if (!iso || String(iso).indexOf('0001-') === 0) return null;
    var d = new Date(iso);
    return isNaN(d.getTime()) ? null : d;
  }

  function fmtClock(iso) {
    var d = validTime(iso);
    if (!d) return '';
    var now = new Date();
    var hm = pad(d.getHours()) + ':' + pad(d.getMinutes());
    if (d.toDateString() === now.toDateString()) return hm;
    return (d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + hm;
  }

  // fmtWait is how long ago iso was, in words: "3 分钟", "1 h 5 min".
  function fmtWait(iso) {
    var d = validTime(iso);
    if (!d) return '';
    var mins = Math.floor((Date.now() - d.getTime()) / 60000);
    if (mins < 1) return t('justNow');
    if (mins < 60) return t('minutes', { n: mins });
    return t('hours', { h: Math.floor(mins / 60), m: mins % 60 });
  }

  function roleLabel(r) {
    return r === 'admin' ? t('roleAdmin') : r === 'editor' ? t('roleEditor') : r === 'agent' ? t('roleAgent') : String(r || '');
  }

  function money(cents, currency) {
    if (typeof cents !== 'number') return '';
    var sym = !currency || currency === 'CNY' ? '¥' : currency === 'USD' ? '$' : currency + ' ';
    return sym + (cents / 100).toFixed(2);
  }

  /* ------------------------------------------------------------------ */
  /* API                                                                 */
  /* ------------------------------------------------------------------ */

  var session = { user: null, csrf: '' };

  // ApiError is a failed request: status (0 when the server could not be
  // reached) and the API's code and message.
  function ApiError(status, body, text) {
    var e = body && body.error && typeof body.error === 'object' ? body.error : null;
    this.status = status;
    this.code = e && e.code ? String(e.code) : (status === 0 ? 'network' : '');
    this.message = e && e.message ? String(e.message) : String(text || '').trim().slice(0, 300);
    this.retryAfter = 0;
  }

  // api calls the server with a JSON body; it resolves to the decoded JSON
  // (null when empty) and rejects with an ApiError.
  function api(method, path, body, opts) {
    opts = opts || {};
    var headers = { 'Accept': 'application/json' };
    var init = { method: method, headers: headers, credentials: 'same-origin', cache: 'no-store' };
    if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
    return fetch(path, init).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        if (text) {
          try { data = JSON.parse(text); } catch (e) { data = null; }
        }
        if (res.ok) return data;
        var err = new ApiError(res.status, data, data ? '' : text);
        err.retryAfter = parseInt(res.headers.get('Retry-After') || '0', 10) || 0;
        if (res.status === 401 && !opts.quiet401) sessionEnded();
        throw err;
      });
    }, function (netErr) {
      throw new ApiError(0, null, netErr && netErr.message);
    });
  }

  function enc(id) { return encodeURIComponent(id); }
  function convPath(id, suffix) { return API + '/conversations/' + enc(id) + (suffix || ''); }

  // errorHeadline is a short sentence in the page's language for err.
  function errorHeadline(err) {
    if (typeof err === 'string') return err;
    switch (err.code) {
      case 'network': return t('errNetwork');
      case 'invalid_credentials': return t('errCredentials');
      case 'locked': return err.retryAfter ? t('errLockedFor', { n: Math.ceil(err.retryAfter / 60) }) : t('errLocked');
      case 'csrf': return t('errCsrf');
      case 'unauthenticated': return t('errUnauthenticated');
      case 'forbidden': return t('errForbidden');
      case 'not_found': return t('errNotFound');
      case 'too_large': return t('errTooLarge');
      case 'internal': return t('errInternal');
      case 'taken': return t('errTaken');
      case 'not_yours': return t('errNotYours');
      case 'no_agent': return t('errNoAgent');
      case 'no_model': return t('errNoModel');
      case 'shortcut_taken': return t('errShortcutTaken');
      case 'invalid': return err.message || t('errInvalid');
    }
    if (err.status === 404 && !err.code) return t('errMissingRoute');
    return err.message || t('errStatus', { n: err.status });
  }

  function squash(s) { return String(s).toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ''); }

  function showError(box, err) {
    clear(box);
    box.removeAttribute('data-code');
    if (!err) { box.hidden = true; return; }
    var head = errorHeadline(err);
    box.appendChild(h('p', { class: 'alert-title', text: head }));
    if (typeof err !== 'string') {
      if (err.message && squash(err.message) !== squash(head) && err.code !== 'invalid') {
        box.appendChild(h('p', { class: 'alert-detail', text: t('serverSays') + err.message }));
      }
      box.setAttribute('data-code', err.code || String(err.status));
    }
    box.hidden = false;
  }

  function hideError(box) { showError(box, null); }

  var toastTimer = 0;
  function toast(text) {
    var el = $('toast');
    el.textContent = text;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.hidden = true; }, 4000);
  }

  /* ------------------------------------------------------------------ */
  /* State                                                               */
  /* ------------------------------------------------------------------ */

  var state = {
    board: null,          // the last handoff.Board
    boardTimer: 0,        // debounce of scheduleBoard
    boardEvery: 0,        // the 30 s refresh
    unread: {},           // conversation id -> true: a message came while it was not open
    canned: [],           // the canned replies
    open: '',             // the open conversation's id
    view: null,           // its handoff.View
    msgs: {},             // its messages by id (the view's plus live ones): dedupe
    notes: {},            // its notes by id
    lastSeq: 0,           // the highest seq shown in the transcript
    loadSeq: 0,           // numbers conversation loads, to drop stale answers
    pending: null,        // {text, clientId}: a reply not yet acknowledged, resent with the same id
    revealed: {},         // field -> value revealed for the open conversation
    revealedMsgs: {},     // message id -> its full text, revealed for the open conversation
    noModel: false,       // the server said it has no model: no "Draft with AI"
    typingSentAt: 0,
    typingTimer: 0,
    suggestTimer: 0,
    cannedPick: -1,       // the highlighted entry of the /shortcut list
    cannedMatches: [],
    cannedRange: null     // [start, end] of the /word being completed
  };

  function myID() { return session.user ? session.user.id : 0; }

  function isMine(c) { return !!c && c.status === 'assigned' && c.agent_id === myID(); }

  function canConversations(u) {
    if (!u) return false;
    if (Array.isArray(u.permissions)) return u.permissions.indexOf('conversations') >= 0;
    return u.role === 'admin' || u.role === 'agent';
  }

  function canSettings(u) {
    return !!u && Array.isArray(u.permissions) && u.permissions.indexOf('settings') >= 0;
  }

  /* ------------------------------------------------------------------ */
  /* Language                                                            */
  /* ------------------------------------------------------------------ */

  var OPTIONS = {
    presence: function () { return [['online', t('presOnline')], ['away', t('presAway')], ['offline', t('presOffline')]]; },
    resolution: function () {
      return ['resolved', 'unresolved', 'follow_up', 'spam', 'duplicate'].map(function (r) { return [r, t('res_' + r)]; });
    },
    cannedLang: function () { return [['', t('cLangBoth')], ['zh', t('lang_zh')], ['en', t('lang_en')]]; }
  };

  function applyLang() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    var nodes = document.querySelectorAll('[data-i18n]');
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = t(nodes[i].getAttribute('data-i18n'));
    nodes = document.querySelectorAll('[data-i18n-placeholder]');
    for (i = 0; i < nodes.length; i++) nodes[i].setAttribute('placeholder', t(nodes[i].getAttribute('data-i18n-placeholder')));
    nodes = document.querySelectorAll('[data-i18n-title]');
    for (i = 0; i < nodes.length; i++) nodes[i].setAttribute('title', t(nodes[i].getAttribute('data-i18n-title')));
    nodes = document.querySelectorAll('select[data-options]');
    for (i = 0; i < nodes.length; i++) fillSelect(nodes[i], OPTIONS[nodes[i].getAttribute('data-options')]());
    var sw = $('lang-switch');
    sw.textContent = t('langSwitch');
    sw.setAttribute('lang', lang === 'zh' ? 'en' : 'zh-CN');
    sw.setAttribute('data-lang', lang);
    renderMe();
    renderConn();
    renderTitle();
  }

  $('lang-switch').addEventListener('click', function () {
    lang = lang === 'zh' ? 'en' : 'zh';
    lsSet(LANG_KEY, lang);
    applyLang();
    renderBoard();
    if (state.view) renderView();
    renderComposerMode();
    if (!$('canned-dialog').hidden) renderCannedTable();
  });

  /* ------------------------------------------------------------------ */
  /* Session                                                             */
  /* ------------------------------------------------------------------ */

  var VIEWS = ['login', 'noaccess', 'fatal', 'desk'];

  function showView(name) {
    VIEWS.forEach(function (v) { show($('view-' + v), v === name); });
    document.body.setAttribute('data-view', name);
    show($('bar-desk'), name === 'desk');
  }

  function renderMe() {
    var u = session.user;
    show($('me'), !!u);
    show($('logout'), !!u);
    show($('canned-manage'), !!u && canSettings(u) && canConversations(u));
    if (!u) return;
    $('me-name').textContent = u.display_name || u.username;
    $('me-name').title = u.username;
    $('me-role').textContent = roleLabel(u.role);
    $('me-role').setAttribute('data-role', u.role || '');
    $('noaccess-text').textContent = t('noAccessText', { name: u.display_name || u.username || '', role: roleLabel(u.role) });
  }

  function renderTitle() {
    var n = Object.keys(state.unread).length;
    document.title = (n ? '(' + n + ') ' : '') + t('brand');
  }

  function signedIn(data) {
    session.user = data.user;
    session.csrf = data.csrf_token || '';
    renderMe();
    if (!canConversations(session.user)) { showView('noaccess'); return; }
    showView('desk');
    loadBoard();
    loadCanned();
    clearInterval(state.boardEvery);
    state.boardEvery = setInterval(function () { scheduleBoard(0); }, BOARD_EVERY_MS);
    sock.start();
  }

  function signedOut() {
    sock.stop();
    clearInterval(state.boardEvery);
    clearTimeout(state.boardTimer);
    session.user = null;
    session.csrf = '';
    state.board = null;
    state.unread = {};
    closeConversation();
    if ($('canned-dialog').open) $('canned-dialog').close();
    renderMe();
    renderTitle();
    showView('login');
    $('login-password').value = '';
    $('login-username').focus();
  }

  // sessionEnded: the server answered 401 to a request made while signed in.
  function sessionEnded() {
    if (!session.user) return;
    signedOut();
    showError($('login-error'), t('errUnauthenticated'));
  }

  function boot() {
    api('GET', '/api/v1/auth/me', undefined, { quiet401: true }).then(signedIn, function (err) {
      if (err.status === 401) {
        signedOut();
        hideError($('login-error'));
        return;
      }
      showError($('fatal-error'), err);
      showView('fatal');
    });
  }

  $('fatal-retry').addEventListener('click', boot);

  $('login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var user = $('login-username').value.trim();
    var pass = $('login-password').value;
    var box = $('login-error');
    if (!user || !pass) {
      showError(box, t('errCredentials'));
      (user ? $('login-password') : $('login-username')).focus();
      return;
    }
    var btn = $('login-submit');
    btn.disabled = true;
    btn.textContent = t('loggingIn');
    api('POST', '/api/v1/auth/login', { username: user, password: pass }, { quiet401: true }).then(function (data) {
      hideError(box);
      $('login-password').value = '';
      signedIn(data);
    }, function (err) {
      showError(box, err);
      $('login-password').value = '';
      $('login-password').focus();
    }).then(function () {
      btn.disabled = false;
      btn.textContent = t('login');
    });
  });

  $('logout').addEventListener('click', function () {
    api('POST', '/api/v1/auth/logout', undefined, { quiet401: true }).then(signedOut, function (err) {
      if (err.status === 401) { signedOut(); return; }
      toast(errorHeadline(err));
    });
  });

  /* ------------------------------------------------------------------ */
  /* The agent socket                                                    */
  /* ------------------------------------------------------------------ */

  // sock keeps one websocket to /ws/agent open while signed in, and
  // reconnects with a growing delay (1 s, 2 s, 4 s … 30 s, with jitter).
  var sock = {
    ws: null,
    wanted: false,
    tries: 0,
    timer: 0,
    state: 'connecting',

    start: function () {
      this.wanted = true;
      this.tries = 0;
      this.connect();
    },

    stop: function () {
      this.wanted = false;
      clearTimeout(this.timer);
      if (this.ws) {
        var ws = this.ws;
        this.ws = null;
        ws.onclose = ws.onmessage = ws.onerror = ws.onopen = null;
        try { ws.close(1000); } catch (e) { /* already closed */ }
      }
    },

    connect: function () {
      var self = this;
      clearTimeout(this.timer);
      if (!this.wanted) return;
      var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/agent';
      var ws;
      try { ws = new WebSocket(url); } catch (e) { this.retry(); return; }
      this.ws = ws;
      this.setState('connecting');
      ws.onopen = function () {
        self.tries = 0;
        self.setState('online');
        if (state.open) {
          self.send({ type: 'watch', conversation: state.open });
          // Messages may have come while the socket was down.
          reloadConversation();
        }
        scheduleBoard(0);
      };
      ws.onmessage = function (ev) {
        var f;
        try { f = JSON.parse(ev.data); } catch (e) { return; }
        if (f && typeof f === 'object') onFrame(f);
      };
      ws.onclose = function (ev) {
        if (self.ws !== ws) return;
        self.ws = null;
        if (!self.wanted) return;
        self.setState('offline');
        if (ev.code === 1008) {
          // The session ended (logout elsewhere, expiry, disabled): ask.
          api('GET', '/api/v1/auth/me', undefined, { quiet401: true }).then(function (data) {
            session.csrf = data.csrf_token || session.csrf;
            self.retry();
          }, function (err) {
            if (err.status === 401) sessionEnded();
            else self.retry();
          });
          return;
        }
        self.retry();
      };
    },

    retry: function () {
      var self = this;
      if (!this.wanted) return;
      var delay = Math.min(30000, 1000 * Math.pow(2, this.tries)) * (0.8 + Math.random() * 0.4);
      this.tries++;
      clearTimeout(this.timer);
      this.timer = setTimeout(function () { self.connect(); }, delay);
    },

    send: function (f) {
      if (!this.ws || this.ws.readyState !== 1) return false;
      try { this.ws.send(JSON.stringify(f)); return true; } catch (e) { return false; }
    },

    setState: function (s) {
      this.state = s;
      renderConn();
    }
  };

  function renderConn() {
    var el = $('conn');
    el.setAttribute('data-state', sock.state);
    el.textContent = sock.state === 'online' ? t('connOnline') : sock.state === 'offline' ? t('connOffline') : t('connConnecting');
  }

  function onFrame(f) {
    switch (f.type) {
      case 'hello':
        if (f.agent) applyMe(f.agent);
        break;
      case 'board':
        scheduleBoard(BOARD_DEBOUNCE_MS);
        break;
      case 'assigned':
        scheduleBoard(BOARD_DEBOUNCE_MS);
        if (f.conversation && f.conversation !== state.open) {
          state.unread[f.conversation] = true;
          renderTitle();
          toast(t('newAssigned'));
        } else if (f.conversation) {
          reloadConversation(); // being read, and now ours: the reply box appears
        }
        break;
      case 'case':
        scheduleBoard(BOARD_DEBOUNCE_MS);
        if (f.conversation && f.conversation === state.open) reloadConversation();
        break;
      case 'message':
        onLiveMessage(f);
        break;
      case 'typing':
        if (f.conversation === state.open && f.role === 'shopper') showShopperTyping();
        break;
      case 'error':
        // A watch refused (the conversation went away) or a bad frame: the
        // socket keeps working; the next board or view load says more.
        break;
    }
  }

  function onLiveMessage(f) {
    var id = f.conversation;
    if (!id || !f.id) return;
    if (id === state.open) {
      if (addMessage(f) && f.role === 'shopper') {
        hideShopperTyping();
        scheduleSuggestions();
      }
      return;
    }
    if (!state.unread[id]) {
      state.unread[id] = true;
      renderBoard();
      renderTitle();
    }
  }

  /* ------------------------------------------------------------------ */
  /* Presence                                                            */
  /* ------------------------------------------------------------------ */

  // applyMe shows the agent's presence and load from a board's me or the
  // socket's hello.
  function applyMe(a) {
    var p = a.presence === 'online' || a.presence === 'away' ? a.presence : 'offline';
    if (document.activeElement !== $('presence')) $('presence').value = p;
    $('presence-dot').setAttribute('data-presence', p);
    var max = typeof a.max_chats === 'number' ? a.max_chats : '?';
    $('load').textContent = (a.active || 0) + '/' + max;
    $('load').setAttribute('data-active', String(a.active || 0));
  }

  $('presence').addEventListener('change', function () {
    var sel = this;
    var p = sel.value;
    sel.disabled = true;
    api('PUT', API + '/presence', { status: p }).then(function () {
      $('presence-dot').setAttribute('data-presence', p);
      if (state.board && state.board.me) state.board.me.presence = p;
      scheduleBoard(0);
    }, function (err) {
      toast(errorHeadline(err));
      if (state.board && state.board.me) applyMe(state.board.me);
    }).then(function () { sel.disabled = false; });
  });

  /* ------------------------------------------------------------------ */
  /* Board                                                               */
  /* ------------------------------------------------------------------ */

  function scheduleBoard(delay) {
    clearTimeout(state.boardTimer);
    state.boardTimer = setTimeout(loadBoard, delay);
  }

  function loadBoard() {
    clearTimeout(state.boardTimer);
    if (!session.user) return;
    api('GET', API + '/board').then(function (b) {
      if (!session.user || !b) return;
      state.board = b;
      hideError($('board-error'));
      if (b.me) applyMe(b.me);
      renderBoard();
      renderTransferOptions();
    }, function (err) {
      if (err.status !== 401) showError($('board-error'), err);
    });
  }

  function renderBoard() {
    var b = state.board;
    if (!b) return;
    show($('closed-banner'), b.open === false);
    renderList('tickets', b.tickets, t('noTickets'));
    renderList('queue', b.queue, t('noQueue'));
    renderList('mine', b.mine, t('noMine'));
  }

  function renderList(which, cases, empty) {
    cases = Array.isArray(cases) ? cases : [];
    var ul = clear($('board-' + which));
    $('count-' + which).textContent = String(cases.length);
    if (!cases.length) {
      ul.appendChild(h('li', { class: 'empty', text: empty }));
      return;
    }
    cases.forEach(function (c) { ul.appendChild(boardItem(which, c)); });
  }

  function shopperName(c, shopper) {
    return (shopper && shopper.name) || c.shopper_name || t('visitor');
  }

  function boardItem(which, c) {
    var id = c.conversation;
    var unread = !!state.unread[id];
    var excerpt = which === 'tickets' && c.ticket ? c.ticket.text : c.last_text;
    var tags = [];
    if (which === 'queue') {
      if (c.position) tags.push(h('span', { class: 'tag tag-pos', text: t('position', { n: c.position }) }));
    }
    if (c.trigger && which !== 'tickets') tags.push(h('span', { class: 'tag', text: tOr('trig_', c.trigger) }));
    if (c.tier) tags.push(h('span', { class: 'tag tag-tier', 'data-tier': c.tier, text: tOr('tier_', c.tier) }));
    if (c.lang) tags.push(h('span', { class: 'tag', text: tOr('lang_', c.lang) }));
    var waitFrom = which === 'mine' ? (c.assigned_at || c.requested_at) : c.requested_at;
    var li = h('li', {
      class: 'item' + (id === state.open ? ' current' : ''),
      'data-conversation': id,
      'data-status': c.status,
      'data-unread': unread ? 'true' : null,
      'aria-current': id === state.open ? 'true' : null
    },
      h('button', { type: 'button', class: 'item-open', 'data-action': 'open' },
        h('span', { class: 'item-line' },
          h('span', { class: 'item-name', text: shopperName(c) }),
          unread ? h('span', { class: 'unread-dot', title: t('unread'), 'aria-label': t('unread') }) : null,
          h('span', { class: 'grow' }),
          h('span', { class: 'item-wait', text: which === 'mine' ? fmtWait(waitFrom) : t('waited', { t: fmtWait(waitFrom) }) })),
        tags.length ? h('span', { class: 'item-tags' }, tags) : null,
        excerpt ? h('span', { class: 'item-excerpt', text: excerpt }) : null));
    if (which !== 'mine') {
      li.appendChild(button(t('claim'), { class: 'btn btn-small btn-primary item-claim', 'data-action': 'claim' }));
    }
    return li;
  }

  ['board-tickets', 'board-queue', 'board-mine'].forEach(function (listID) {
    $(listID).addEventListener('click', function (ev) {
      var li = ev.target.closest('[data-conversation]');
      if (!li) return;
      var id = li.getAttribute('data-conversation');
      var act = ev.target.closest('[data-action]');
      if (act && act.getAttribute('data-action') === 'claim') {
        claim(id, act);
        return;
      }
      openConversation(id);
    });
  });

  /* ------------------------------------------------------------------ */
  /* Conversation                                                        */
  /* ------------------------------------------------------------------ */

  function closeConversation() {
    state.open = '';
    state.view = null;
    state.msgs = {};
    state.notes = {};
    state.lastSeq = 0;
    state.pending = null;
    state.revealed = {};
    state.revealedMsgs = {};
    hideShopperTyping();
    closeCannedPop();
    show($('conv-open'), false);
    show($('conv-empty'), true);
    show($('side'), false);
    $('reply-input').value = '';
    $('note-toggle').checked = false;
    renderComposerMode();
  }

  function openConversation(id) {
    if (id !== state.open) {
      closeConversation();
      state.open = id;
      show($('conv-empty'), false);
      show($('conv-open'), true);
      clear($('transcript'));
      clear($('summary'));
      clear($('profile'));
      clear($('orders'));
      clear($('suggestions'));
      hideError($('conv-error'));
      sock.send({ type: 'watch', conversation: id });
    }
    if (state.unread[id]) {
      delete state.unread[id];
      renderTitle();
    }
    renderBoard();
    reloadConversation(true);
  }

  // reloadConversation fetches the open conversation again. first: it was
  // just opened (also load the suggestions and focus the reply box).
  function reloadConversation(first) {
    var id = state.open;
    if (!id) return;
    var n = ++state.loadSeq;
    api('GET', convPath(id)).then(function (v) {
      if (n !== state.loadSeq || id !== state.open || !v) return;
      hideError($('conv-error'));
      setView(v);
      if (first) {
        loadSuggestions();
        if (isMine(v.case)) $('reply-input').focus();
      }
    }, function (err) {
      if (n !== state.loadSeq || id !== state.open) return;
      showError($('conv-error'), err);
      if (err.status === 404) {
        // Taken by someone else, transferred away: nothing to show.
        show($('composer'), false);
        show($('conv-actions'), false);
        scheduleBoard(0);
      }
    });
  }

  function setView(v) {
    state.view = v;
    (Array.isArray(v.messages) ? v.messages : []).forEach(function (m) {
      if (!m || !m.id) return;
      if (state.revealedMsgs && state.revealedMsgs[m.id] != null) m.text = state.revealedMsgs[m.id];
      state.msgs[m.id] = m;
    });
    state.notes = {};
    (Array.isArray(v.notes) ? v.notes : []).forEach(function (n) { if (n) state.notes[n.id] = n; });
    renderView();
  }

  function renderView() {
    var v = state.view;
    if (!v) return;
    renderHead(v);
    renderSummary(v);
    renderTicket(v);
    renderTranscript();
    renderProfile(v);
    renderOrders(v);
    renderActions(v);
    show($('side'), true);
  }

  function renderHead(v) {
    var c = v.case || {};
    $('conv-name').textContent = shopperName(c, v.shopper);
    var tags = clear($('conv-tags'));
    if (c.tier) tags.appendChild(h('span', { class: 'tag tag-tier', 'data-tier': c.tier, text: tOr('tier_', c.tier) }));
    if (c.lang) tags.appendChild(h('span', { class: 'tag', text: tOr('lang_', c.lang) }));
    if (c.trigger) tags.appendChild(h('span', { class: 'tag', text: tOr('trig_', c.trigger) }));
    var st = h('span', { class: 'tag tag-status', id: 'conv-status', 'data-status': c.status || '', text: tOr('st_', c.status) });
    tags.appendChild(st);
    if (c.status === 'assigned') {
      tags.appendChild(h('span', { class: 'tag', text: isMine(c) ? t('assignedToMe') : t('assignedTo', { name: c.agent_name || '#' + c.agent_id }) }));
    }
    if (c.status === 'closed' && c.resolution) {
      tags.appendChild(h('span', { class: 'tag', 'data-resolution': c.resolution, text: tOr('res_', c.resolution) }));
    }
  }

  function renderSummary(v) {
    var s = (v.case && v.case.summary) || {};
    var box = clear($('summary'));
    box.appendChild(h('h3', { id: 'summary-title', text: t('summaryTitle') }));
    if (s.text) {
      box.appendChild(h('div', { class: 'summary-text', 'data-field': 'text' },
        h('span', { class: 'badge badge-ai', text: t('summaryAI') }), ' ', s.text));
    }
    var dl = h('dl', { class: 'summary-facts' });
    function row(key, field, content) {
      dl.appendChild(h('dt', { text: t(key) }));
      dl.appendChild(h('dd', { 'data-field': field }, content));
    }
    row('sumTrigger', 'trigger', tOr('trig_', s.trigger || (v.case && v.case.trigger)) || t('none'));
    var qs = Array.isArray(s.questions) ? s.questions : [];
    row('sumQuestions', 'questions', qs.length ? h('ol', { class: 'plain' }, qs.map(function (q) { return h('li', { text: q }); })) : t('none'));
    var os = Array.isArray(s.orders) ? s.orders : [];
    row('sumOrders', 'orders', os.length ? os.map(function (o) { return h('span', { class: 'chip mono', text: o }); }) : t('none'));
    var es = Array.isArray(s.entries) ? s.entries : [];
    row('sumEntries', 'entries', es.length ? h('ul', { class: 'plain' }, es.map(function (e) {
      return h('li', { 'data-entry': e.id, text: e.title || e.id });
    })) : t('none'));
    box.appendChild(dl);
  }

  function renderTicket(v) {
    var tk = v.case && v.case.ticket;
    var box = clear($('ticket'));
    show(box, !!tk);
    if (!tk) return;
    box.appendChild(h('h3', { text: t('ticketTitle') }));
    box.appendChild(h('p', { class: 'ticket-text pre', text: tk.text }));
    var via = h('p', { class: 'ticket-contact' }, t('contactVia') + t('colon') + tOr('via_', tk.contact_via));
    if (tk.contact) {
      var shown = state.revealed.contact != null ? state.revealed.contact : tk.contact;
      via.appendChild(document.createTextNode(' '));
      via.appendChild(h('span', { class: 'pii' + (state.revealed.contact != null ? ' revealed' : ''), 'data-field': 'contact', text: shown }));
      if (state.revealed.contact == null) {
        via.appendChild(document.createTextNode(' '));
        via.appendChild(button(t('revealContact'), { id: 'reveal-contact', 'data-fields': 'contact' }));
      }
    }
    box.appendChild(via);
  }

  /* Transcript */

  function sortedItems() {
    var items = [];
    Object.keys(state.msgs).forEach(function (id) {
      var m = state.msgs[id];
      items.push({ kind: 'msg', at: (validTime(m.created_at) || new Date(0)).getTime(), seq: m.seq || 0, obj: m });
    });
    Object.keys(state.notes).forEach(function (id) {
      var n = state.notes[id];
      items.push({ kind: 'note', at: (validTime(n.created_at) || new Date(0)).getTime(), seq: 0, obj: n });
    });
    // Messages keep their seq order; a note goes after the messages older than it.
    var msgs = items.filter(function (x) { return x.kind === 'msg'; }).sort(function (a, b) { return a.seq - b.seq; });
    var notes = items.filter(function (x) { return x.kind === 'note'; }).sort(function (a, b) { return a.at - b.at || a.obj.id - b.obj.id; });
    var out = [];
    var j = 0;
    msgs.forEach(function (m) {
      while (j < notes.length && notes[j].at < m.at) out.push(notes[j++]);
      out.push(m);
    });
    while (j < notes.length) out.push(notes[j++]);
    return out;
  }

  function atBottom(el) { return el.scrollHeight - el.scrollTop - el.clientHeight < 40; }

  function scrollDown() {
    var sc = $('conv-scroll');
    sc.scrollTop = sc.scrollHeight;
  }

  function renderTranscript() {
    var sc = $('conv-scroll');
    var stick = atBottom(sc) || !$('transcript').firstChild;
    var list = clear($('transcript'));
    state.lastSeq = 0;
    sortedItems().forEach(function (it) {
      list.appendChild(it.kind === 'msg' ? msgNode(it.obj) : noteNode(it.obj));
      if (it.kind === 'msg' && it.seq > state.lastSeq) state.lastSeq = it.seq;
    });
    if (stick) scrollDown();
  }

  // addMessage shows a message of the open conversation once: the reply's
  // answer and its live frame carry the same id. It reports whether the
  // message was new.
  function addMessage(m) {
    if (!m || !m.id || state.msgs[m.id]) return false;
    state.msgs[m.id] = m;
    var sc = $('conv-scroll');
    var stick = atBottom(sc) || m.role === 'agent';
    if ((m.seq || 0) > state.lastSeq) {
      $('transcript').appendChild(msgNode(m));
      state.lastSeq = m.seq || state.lastSeq;
      if (stick) scrollDown();
    } else {
      renderTranscript();
    }
    return true;
  }

  function addNote(n) {
    if (!n || state.notes[n.id]) return;
    state.notes[n.id] = n;
    $('transcript').appendChild(noteNode(n));
    scrollDown();
  }

  function msgNode(m) {
    var role = m.role === 'bot' || m.role === 'agent' || m.role === 'shopper' || m.role === 'system' ? m.role : 'system';
    var wrap = h('div', { class: 'msg msg-' + role, 'data-role': role, 'data-id': m.id, 'data-seq': m.seq || null });
    if (role === 'system') {
      wrap.appendChild(h('div', { class: 'msg-system-text pre', text: m.text }));
      appendCards(wrap, m);
      return wrap;
    }
    var head = h('div', { class: 'msg-head' });
    if (role === 'bot') {
      head.appendChild(h('span', { class: 'badge badge-ai', title: t('botName'), text: t('roleAI') }));
      head.appendChild(h('span', { class: 'msg-name', text: t('botName') }));
    } else if (role === 'agent') {
      var mine = m.agent_name && session.user && (m.agent_name === session.user.display_name || m.agent_name === session.user.username);
      head.appendChild(h('span', { class: 'msg-name', text: m.agent_name || t('roleAgent') }));
      if (mine) head.appendChild(h('span', { class: 'muted', text: '(' + t('you') + ')' }));
    } else {
      head.appendChild(h('span', { class: 'msg-name', text: shopperName((state.view && state.view.case) || {}, state.view && state.view.shopper) }));
    }
    head.appendChild(h('time', { class: 'msg-time', datetime: m.created_at || null, text: fmtClock(m.created_at) }));
    wrap.appendChild(head);
    if (m.text) wrap.appendChild(h('div', { class: 'bubble pre', text: m.text }));
    appendCards(wrap, m);
    var srcs = Array.isArray(m.sources) ? m.sources : [];
    if (srcs.length) {
      wrap.appendChild(h('div', { class: 'msg-sources small muted' }, t('sourcesLabel'),
        srcs.map(function (s, i) { return [i ? '、' : '', h('span', { 'data-source-id': s.id, text: s.title || s.id })]; })));
    }
    return wrap;
  }

  function appendCards(wrap, m) {
    var cards = Array.isArray(m.cards) ? m.cards : [];
    cards.forEach(function (c) {
      if (!c || typeof c !== 'object') return;
      if (c.kind === 'order') {
        var items = (Array.isArray(c.items) ? c.items : []).map(function (it) { return it.name + ' ×' + it.qty; }).join('，');
        wrap.appendChild(h('div', { class: 'card-mini card-order', 'data-order-id': c.order_id },
          h('span', { class: 'mono order-id', text: c.order_id }),
          h('span', { class: 'badge', 'data-status': c.status, text: c.status_text || tOr('os_', c.status) }),
          items ? h('span', { class: 'card-items', text: items }) : null,
          c.total ? h('span', { class: 'muted', text: t('orderTotal', { t: c.total }) }) : null));
      } else if (c.kind === 'return') {
        wrap.appendChild(h('div', { class: 'card-mini card-return', 'data-order-id': c.order_id },
          h('span', { text: t('returnCard', { s: c.status_text || c.status || '' }) }),
          h('span', { class: 'mono', text: c.order_id }),
          c.return_id ? h('span', { class: 'mono', text: c.return_id }) : null));
      } else if (c.kind === 'rating') {
        wrap.appendChild(h('div', { class: 'card-mini card-rating', text: t('cardRating') }));
      }
    });
  }

  function noteNode(n) {
    return h('div', { class: 'msg msg-note', 'data-role': 'note', 'data-note-id': n.id },
      h('div', { class: 'msg-head' },
        h('span', { class: 'badge badge-note', text: t('noteLabel') }),
        h('span', { class: 'msg-name', text: t('noteBy', { name: n.agent_name || '' }) }),
        h('time', { class: 'msg-time', datetime: n.created_at || null, text: fmtClock(n.created_at) })),
      h('div', { class: 'bubble pre', text: n.text }));
  }

  /* Typing */

  function showShopperTyping() {
    var el = $('typing');
    el.textContent = t('typingShopper');
    el.hidden = false;
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(hideShopperTyping, TYPING_SHOWN_MS);
  }

  function hideShopperTyping() {
    clearTimeout(state.typingTimer);
    $('typing').hidden = true;
  }

  /* Profile and orders */

  var PII = ['phone', 'email', 'address'];

  function renderProfile(v) {
    var box = clear($('profile'));
    var s = v.shopper;
    // Personal data the shopper typed in the chat is masked too.
    var chat = v.masked && state.revealed.transcript == null ? ['transcript'] : [];
    if (!s) {
      box.appendChild(h('p', { class: 'muted', text: t('visitorProfile') }));
      $('reveal-btn').setAttribute('data-fields', chat.join(' '));
      show($('reveal-btn'), chat.length > 0);
      show($('reveal-note'), chat.length > 0);
      return;
    }
    var dl = h('dl', { class: 'facts' });
    function row(key, field, value, cls) {
      if (value == null || value === '') return;
      dl.appendChild(h('dt', { text: t(key) }));
      dl.appendChild(h('dd', { 'data-field': field }, cls ? h('span', { class: cls, text: value }) : value));
    }
    row('pName', 'name', s.name);
    row('pTier', 'tier', s.tier ? tOr('tier_', s.tier) : '');
    row('pPoints', 'points', s.points ? String(s.points) : '');
    row('pLang', 'lang', s.lang ? tOr('lang_', s.lang) : '');
    row('pInterests', 'interests', Array.isArray(s.interests) && s.interests.length ? s.interests.join('、') : '');
    // What the shopper's orders say (bot.Features): segment and key figures.
    var f = s.features;
    if (f && f.segment) {
      row('pSegment', 'segment', tOr('seg_', f.segment));
      row('pOrders', 'orders', String(f.orders || 0));
      if (f.orders) {
        row('pLastOrder', 'last_order', t('daysAgo', { n: f.recency_days || 0 }));
        row('pAOV', 'aov', money(f.aov_cents || 0, 'CNY'));
      }
      row('pFavCategories', 'fav_categories', Array.isArray(f.fav_categories) && f.fav_categories.length ? f.fav_categories.slice(0, 3).join('、') : '');
    }
    var masked = [];
    PII.forEach(function (f) {
      if (!s[f]) return;
      var revealed = state.revealed[f] != null;
      if (!revealed) masked.push(f);
      row('p' + f.charAt(0).toUpperCase() + f.slice(1), f, revealed ? state.revealed[f] : s[f], 'pii' + (revealed ? ' revealed' : ''));
    });
    box.appendChild(dl);
    if (PII.some(function (f) { return state.revealed[f] != null; })) {
      box.appendChild(h('p', { class: 'small revealed-note', text: t('revealed') }));
    }
    var btn = $('reveal-btn');
    masked = masked.concat(chat);
    btn.setAttribute('data-fields', masked.join(' '));
    show(btn, masked.length > 0);
    show($('reveal-note'), masked.length > 0);
  }

  function itemName(it) {
    return (lang === 'en' ? it.name_en || it.name_zh : it.name_zh || it.name_en) || it.sku || '';
  }

  function renderOrders(v) {
    var box = clear($('orders'));
    var orders = Array.isArray(v.orders) ? v.orders : [];
    if (!v.shopper) {
      show($('orders-panel'), false);
      return;
    }
    show($('orders-panel'), true);
    if (!orders.length) {
      box.appendChild(h('p', { class: 'muted', text: t('noOrders') }));
      return;
    }
    var ul = h('ul', { class: 'order-list' });
    orders.forEach(function (o) {
      var items = (Array.isArray(o.items) ? o.items : []).map(function (it) { return itemName(it) + ' ×' + it.qty; }).join('，');
      var track = Array.isArray(o.tracking) && o.tracking.length ? o.tracking[o.tracking.length - 1] : null;
      var trackText = track ? (lang === 'en' ? track.text_en || track.text_zh : track.text_zh || track.text_en) : '';
      ul.appendChild(h('li', { class: 'order', 'data-order-id': o.id, 'data-status': o.status },
        h('div', { class: 'order-line' },
          h('span', { class: 'mono order-id', text: o.id }),
          h('span', { class: 'badge', 'data-status': o.status, text: tOr('os_', o.status) }),
          h('span', { class: 'grow' }),
          h('span', { class: 'order-total', text: money(o.total_cents, o.currency) })),
        items ? h('div', { class: 'order-items', text: items }) : null,
        o.tracking_no || o.carrier ? h('div', { class: 'small muted order-track' },
          t('tracking') + t('colon') + [o.carrier, o.tracking_no].filter(Boolean).join(' ') + (trackText ? ' · ' + trackText : '')) : null,
        h('div', { class: 'small muted', text: fmtClock(o.placed_at) })));
    });
    box.appendChild(ul);
  }

  function reveal(fields, btn) {
    var id = state.open;
    if (!id || !fields.length) return;
    btn.disabled = true;
    var label = btn.textContent;
    btn.textContent = t('revealing');
    api('POST', convPath(id, '/reveal'), { fields: fields }).then(function (r) {
      if (id !== state.open) return;
      var values = (r && r.values) || {};
      var chatShown = false;
      Object.keys(values).forEach(function (f) {
        if (f.indexOf('message:') === 0) {
          var m = state.msgs[f.slice(8)];
          state.revealedMsgs[f.slice(8)] = String(values[f]);
          if (m) { m.text = String(values[f]); chatShown = true; }
          return;
        }
        state.revealed[f] = String(values[f]);
      });
      if (fields.indexOf('transcript') >= 0) state.revealed.transcript = '1';
      if (chatShown) renderTranscript();
      if (state.view) {
        renderProfile(state.view);
        renderTicket(state.view);
      }
    }, function (err) {
      toast(errorHeadline(err));
    }).then(function () {
      btn.disabled = false;
      btn.textContent = label;
    });
  }

  $('reveal-btn').addEventListener('click', function () {
    reveal((this.getAttribute('data-fields') || '').split(' ').filter(Boolean), this);
  });

  $('ticket').addEventListener('click', function (ev) {
    var b = ev.target.closest('#reveal-contact');
    if (b) reveal(['contact'], b);
  });

  /* Actions: claim, transfer, close */

  function renderActions(v) {
    var c = v.case || {};
    var mine = isMine(c);
    show($('conv-actions'), true);
    show($('claim-btn'), c.status === 'queued' || c.status === 'ticket');
    show($('transfer-group'), mine);
    show($('close-group'), mine);
    show($('composer'), mine);
    show($('draft-btn'), mine && !state.noModel);
    show($('draft-note'), mine && state.noModel);
    var off = $('composer-off');
    if (mine) {
      off.hidden = true;
    } else {
      off.textContent = c.status === 'closed' ? t('closedText') :
        c.status === 'assigned' ? t('notMineText', { name: c.agent_name || '#' + c.agent_id }) : t('queuedText');
      off.setAttribute('data-status', c.status || '');
      off.hidden = false;
    }
    renderTransferOptions();
  }

  function renderTransferOptions() {
    var sel = $('transfer-to');
    var agents = state.board && Array.isArray(state.board.agents) ? state.board.agents : [];
    var opts = [['0', t('toQueue')]];
    agents.forEach(function (a) {
      if (a.id === myID() || a.presence !== 'online' || !a.connected) return;
      opts.push([String(a.id), a.name + ' (' + (a.active || 0) + '/' + a.max_chats + ')']);
    });
    fillSelect(sel, opts);
  }

  function claim(id, btn) {
    if (btn) { btn.disabled = true; btn.textContent = t('claiming'); }
    api('POST', convPath(id, '/claim')).then(function () {
      scheduleBoard(0);
      if (id === state.open) reloadConversation();
      else openConversation(id);
    }, function (err) {
      toast(errorHeadline(err));
      scheduleBoard(0);
      if (id === state.open) reloadConversation();
    }).then(function () {
      if (btn) { btn.disabled = false; btn.textContent = t('claim'); }
    });
  }

  $('claim-btn').addEventListener('click', function () {
    if (state.open) claim(state.open, this);
  });

  $('transfer-btn').addEventListener('click', function () {
    var id = state.open;
    var to = parseInt($('transfer-to').value || '0', 10) || 0;
    var btn = this;
    btn.disabled = true;
    api('POST', convPath(id, '/transfer'), { to: to }).then(function () {
      toast(t('transferDone'));
      scheduleBoard(0);
      // Given to a colleague, it is no longer ours to read; back in the
      // queue, it still is.
      if (id === state.open) {
        if (to) { closeConversation(); renderBoard(); } else reloadConversation();
      }
    }, function (err) {
      showError($('conv-error'), err);
      scheduleBoard(0);
    }).then(function () { btn.disabled = false; });
  });

  $('close-btn').addEventListener('click', function () {
    var id = state.open;
    var res = $('resolution').value;
    var btn = this;
    btn.disabled = true;
    api('POST', convPath(id, '/close'), { resolution: res }).then(function (r) {
      if (id === state.open && state.view && r && r.case) {
        state.view.case = r.case;
        renderView();
      }
      toast(t('closed', { r: t('res_' + res) }));
      scheduleBoard(0);
      if (id === state.open) reloadConversation();
    }, function (err) {
      showError($('conv-error'), err);
    }).then(function () { btn.disabled = false; });
  });

  /* ------------------------------------------------------------------ */
  /* Suggestions and drafts                                              */
  /* ------------------------------------------------------------------ */

  function scheduleSuggestions() {
    clearTimeout(state.suggestTimer);
    state.suggestTimer = setTimeout(loadSuggestions, 300);
  }

  function loadSuggestions() {
    var id = state.open;
    if (!id) return;
    api('GET', convPath(id, '/suggestions')).then(function (s) {
      if (id !== state.open) return;
      renderSuggestions(s || {});
    }, function (err) {
      if (id !== state.open) return;
      var box = clear($('suggestions'));
      box.appendChild(h('p', { class: 'muted small', text: errorHeadline(err) }));
    });
  }

  function renderSuggestions(s) {
    var box = clear($('suggestions'));
    var entries = Array.isArray(s.entries) ? s.entries : [];
    if (s.question) box.appendChild(h('p', { class: 'muted small suggest-for', text: t('suggestFor', { q: s.question }) }));
    if (!entries.length) {
      box.appendChild(h('p', { class: 'muted small', text: t('noSuggestions') }));
      return;
    }
    entries.forEach(function (e) {
      var preview = String(e.answer || '');
      if (preview.length > 160) preview = preview.slice(0, 160) + '…';
      var b = button(t('insert'), { 'data-action': 'insert' });
      b.addEventListener('click', function () { insertText(String(e.answer || '')); });
      box.appendChild(h('div', { class: 'suggestion', 'data-id': e.id },
        h('div', { class: 'suggestion-head' },
          h('span', { class: 'suggestion-title', text: e.title || e.id }),
          typeof e.confidence === 'number' ? h('span', { class: 'muted small', text: Math.round(e.confidence * 100) + '%' }) : null),
        h('div', { class: 'suggestion-answer small', text: preview }),
        b));
    });
  }

  // insertText puts text into the reply box: at the caret, or in place of
  // the selection.
  function insertText(text) {
    var ta = $('reply-input');
    if ($('composer').hidden) return;
    if ($('note-toggle').checked) { $('note-toggle').checked = false; renderComposerMode(); }
    var start = ta.selectionStart == null ? ta.value.length : ta.selectionStart;
    var end = ta.selectionEnd == null ? start : ta.selectionEnd;
    ta.value = ta.value.slice(0, start) + text + ta.value.slice(end);
    ta.focus();
    var pos = start + text.length;
    ta.setSelectionRange(pos, pos);
  }

  $('draft-btn').addEventListener('click', function () {
    var id = state.open;
    var btn = this;
    btn.disabled = true;
    btn.textContent = t('drafting');
    api('POST', convPath(id, '/draft')).then(function (r) {
      if (id === state.open && r && r.text) {
        var ta = $('reply-input');
        if (ta.value.trim()) insertText('\n' + r.text);
        else insertText(r.text);
      }
    }, function (err) {
      if (err.code === 'no_model' || err.status === 501) {
        state.noModel = true;
        show(btn, false);
        $('draft-note').textContent = t('draftNone');
        show($('draft-note'), true);
        return;
      }
      toast(errorHeadline(err));
    }).then(function () {
      btn.disabled = false;
      btn.textContent = t('draft');
    });
  });

  /* ------------------------------------------------------------------ */
  /* Composer                                                            */
  /* ------------------------------------------------------------------ */

  function noteMode() { return $('note-toggle').checked; }

  function renderComposerMode() {
    var note = noteMode();
    $('composer').classList.toggle('note-mode', note);
    $('reply-input').setAttribute('placeholder', note ? t('notePlaceholder') : t('replyPlaceholder'));
    $('reply-send').textContent = note ? t('addNote') : t('send');
    $('draft-note').textContent = t('draftNone');
  }

  $('note-toggle').addEventListener('change', function () {
    renderComposerMode();
    closeCannedPop();
    $('reply-input').focus();
  });

  function newClientID() {
    var a = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return 'a-' + Array.prototype.map.call(a, function (b) { return (b < 16 ? '0' : '') + b.toString(16); }).join('');
  }

  var sending = false;

  function send() {
    var id = state.open;
    var ta = $('reply-input');
    var text = ta.value.trim();
    if (!id || !text || sending) return;
    var note = noteMode();
    var req;
    if (note) {
      req = api('POST', convPath(id, '/notes'), { text: text }).then(function (r) {
        if (id === state.open && r && r.note) addNote(r.note);
      });
    } else {
      // A reply resent after a failure keeps its client_id, so the server
      // stores it once.
      if (!state.pending || state.pending.text !== text) state.pending = { text: text, clientId: newClientID() };
      req = api('POST', convPath(id, '/messages'), { client_id: state.pending.clientId, text: text }).then(function (r) {
        state.pending = null;
        if (id === state.open && r && r.message) addMessage(r.message);
      });
    }
    sending = true;
    var btn = $('reply-send');
    btn.disabled = true;
    hideError($('reply-error'));
    req.then(function () {
      if (ta.value.trim() === text) ta.value = '';
      closeCannedPop();
    }, function (err) {
      showError($('reply-error'), err);
      if (err.code === 'not_yours' || err.status === 404) reloadConversation();
    }).then(function () {
      sending = false;
      btn.disabled = false;
      ta.focus();
    });
  }

  $('reply-send').addEventListener('click', send);

  $('reply-input').addEventListener('keydown', function (ev) {
    if (!$('canned-pop').hidden && state.cannedMatches.length) {
      if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
        ev.preventDefault();
        var n = state.cannedMatches.length;
        state.cannedPick = (state.cannedPick + (ev.key === 'ArrowDown' ? 1 : n - 1)) % n;
        renderCannedPop();
        return;
      }
      if (ev.key === 'Tab' || (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing)) {
        ev.preventDefault();
        pickCanned(state.cannedPick < 0 ? 0 : state.cannedPick);
        return;
      }
      if (ev.key === 'Escape') {
        ev.preventDefault();
        closeCannedPop();
        return;
      }
    }
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
      ev.preventDefault();
      send();
    }
  });

  $('reply-input').addEventListener('input', function () {
    updateCannedPop();
    if (noteMode() || !this.value) return;
    var now = Date.now();
    if (now - state.typingSentAt >= TYPING_EVERY_MS && state.open && state.view && isMine(state.view.case)) {
      if (sock.send({ type: 'typing', conversation: state.open })) state.typingSentAt = now;
    }
  });

  $('reply-input').addEventListener('blur', function () {
    // Let a click on the list land first.
    setTimeout(function () { if (document.activeElement !== $('reply-input')) closeCannedPop(); }, 150);
  });

  /* /shortcut completion */

  function loadCanned() {
    return api('GET', API + '/canned').then(function (r) {
      state.canned = r && Array.isArray(r.canned) ? r.canned : [];
      if ($('canned-dialog').open) renderCannedTable();
    }, function (err) {
      if ($('canned-dialog').open) showError($('canned-error'), err);
    });
  }

  function convLang() {
    var c = state.view && state.view.case;
    return (c && c.lang) || (state.view && state.view.shopper && state.view.shopper.lang) || '';
  }

  function updateCannedPop() {
    var ta = $('reply-input');
    var caret = ta.selectionStart == null ? ta.value.length : ta.selectionStart;
    var before = ta.value.slice(0, caret);
    var m = /(^|\s)\/([A-Za-z0-9_-]*)$/.exec(before);
    if (!m) { closeCannedPop(); return; }
    var prefix = m[2].toLowerCase();
    var cl = convLang();
    var matches = state.canned.filter(function (c) {
      return String(c.shortcut || '').toLowerCase().indexOf(prefix) === 0 && (!c.lang || !cl || c.lang === cl);
    });
    matches.sort(function (a, b) { return a.shortcut < b.shortcut ? -1 : a.shortcut > b.shortcut ? 1 : 0; });
    if (!matches.length) { closeCannedPop(); return; }
    state.cannedMatches = matches;
    state.cannedRange = [caret - prefix.length - 1, caret];
    if (state.cannedPick >= matches.length || state.cannedPick < 0) state.cannedPick = 0;
    renderCannedPop();
  }

  function renderCannedPop() {
    var pop = clear($('canned-pop'));
    state.cannedMatches.forEach(function (c, i) {
      var preview = String(c.text || '');
      if (preview.length > 80) preview = preview.slice(0, 80) + '…';
      var li = h('li', { role: 'option', class: 'canned-opt', 'data-shortcut': c.shortcut, 'data-index': i, 'aria-selected': i === state.cannedPick ? 'true' : 'false' },
        h('span', { class: 'mono canned-key', text: '/' + c.shortcut }),
        c.title ? h('span', { class: 'canned-title', text: c.title }) : null,
        h('span', { class: 'muted small canned-text', text: preview }));
      pop.appendChild(li);
    });
    pop.hidden = false;
  }

  function closeCannedPop() {
    state.cannedMatches = [];
    state.cannedPick = -1;
    state.cannedRange = null;
    $('canned-pop').hidden = true;
  }

  function pickCanned(i) {
    var c = state.cannedMatches[i];
    var r = state.cannedRange;
    if (!c || !r) return;
    var ta = $('reply-input');
    ta.value = ta.value.slice(0, r[0]) + c.text + ta.value.slice(r[1]);
    var pos = r[0] + String(c.text).length;
    closeCannedPop();
    ta.focus();
    ta.setSelectionRange(pos, pos);
  }

  $('canned-pop').addEventListener('mousedown', function (ev) {
    var li = ev.target.closest('[data-index]');
    if (!li) return;
    ev.preventDefault();
    pickCanned(parseInt(li.getAttribute('data-index'), 10));
  });

  /* ------------------------------------------------------------------ */
  /* Canned replies manager (admins)                                     */
  /* ------------------------------------------------------------------ */

  var cannedEdit = 0; // the id being edited, 0 for a new one

  $('canned-manage').addEventListener('click', function () {
    hideError($('canned-error'));
    resetCannedForm();
    renderCannedTable();
    $('canned-dialog').showModal();
    loadCanned();
  });

  $('canned-close').addEventListener('click', function () { $('canned-dialog').close(); });
  $('cf-new').addEventListener('click', resetCannedForm);

  function resetCannedForm() {
    cannedEdit = 0;
    $('cf-shortcut').value = '';
    $('cf-lang').value = '';
    $('cf-title').value = '';
    $('cf-text').value = '';
    $('canned-form-title').textContent = t('cNewTitle');
  }

  function renderCannedTable() {
    var body = clear($('canned-body'));
    if (!state.canned.length) {
      body.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: '5', text: t('cEmpty') })));
      return;
    }
    state.canned.forEach(function (c) {
      body.appendChild(h('tr', { 'data-canned-id': c.id, 'data-shortcut': c.shortcut },
        h('td', { class: 'mono', text: '/' + c.shortcut }),
        h('td', { text: c.lang ? tOr('lang_', c.lang) : t('cLangBoth') }),
        h('td', { text: c.title || '' }),
        h('td', { class: 'pre canned-cell', text: c.text }),
        h('td', null, h('span', { class: 'row-actions' },
          button(t('cEdit'), { 'data-action': 'edit' }),
          button(t('cDelete'), { class: 'btn btn-small btn-danger', 'data-action': 'delete' })))));
    });
  }

  $('canned-body').addEventListener('click', function (ev) {
    var b = ev.target.closest('[data-action]');
    var tr = ev.target.closest('tr[data-canned-id]');
    if (!b || !tr) return;
    var id = parseInt(tr.getAttribute('data-canned-id'), 10);
    var c = state.canned.filter(function (x) { return x.id === id; })[0];
    if (!c) return;
    if (b.getAttribute('data-action') === 'edit') {
      cannedEdit = id;
      $('cf-shortcut').value = c.shortcut || '';
      $('cf-lang').value = c.lang || '';
      $('cf-title').value = c.title || '';
      $('cf-text').value = c.text || '';
      $('canned-form-title').textContent = t('cEditTitle', { s: c.shortcut });
      $('cf-text').focus();
      return;
    }
    // Delete asks once more on the button itself.
    if (b.getAttribute('data-armed') !== 'true') {
      b.setAttribute('data-armed', 'true');
      b.textContent = t('cConfirmDelete');
      return;
    }
    b.disabled = true;
    api('DELETE', API + '/canned/' + enc(id)).then(function () {
      toast(t('deleted'));
      if (cannedEdit === id) resetCannedForm();
      return loadCanned();
    }, function (err) {
      showError($('canned-error'), err);
      b.disabled = false;
    });
  });

  $('canned-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var c = {
      shortcut: $('cf-shortcut').value.trim().replace(/^\//, '').toLowerCase(),
      lang: $('cf-lang').value,
      title: $('cf-title').value.trim(),
      text: $('cf-text').value.trim()
    };
    if (!/^[a-z0-9_-]{1,32}$/.test(c.shortcut) || !c.text) {
      showError($('canned-error'), t('cNeed'));
      return;
    }
    var btn = $('cf-save');
    btn.disabled = true;
    var req = cannedEdit ? api('PUT', API + '/canned/' + enc(cannedEdit), c) : api('POST', API + '/canned', c);
    req.then(function () {
      hideError($('canned-error'));
      toast(t('saved'));
      resetCannedForm();
      return loadCanned();
    }, function (err) {
      showError($('canned-error'), err);
    }).then(function () { btn.disabled = false; });
  });

  /* ------------------------------------------------------------------ */
  /* Start                                                               */
  /* ------------------------------------------------------------------ */

  // Waiting times move on even when nothing else changes.
  setInterval(function () { if (state.board) renderBoard(); }, 30000);

  applyLang();
  renderComposerMode();
  document.body.classList.remove('booting');
  boot();
})();
