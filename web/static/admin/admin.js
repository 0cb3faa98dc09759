/*
 * Xiaoer (小二) knowledge-base admin page, served at /admin/.
 *
 * Plain JavaScript, no dependencies, no build step. It talks only to the
 * server's own API (docs/admin-api.md and /api/v1/auth/*). Everything the
 * server sends is put on the page with textContent or as attribute values,
 * never as HTML, and the page has no inline script or style (the CSP forbids
 * both).
 */
(function () {
  'use strict';

  var API = '/api/v1/admin/kb';
  var LANG_KEY = 'xiaoer-admin.lang';

  /* ------------------------------------------------------------------ */
  /* i18n                                                                */
  /* ------------------------------------------------------------------ */

  var I18N = {
    zh: {
      brand: '小二 · 知识库',
      navEntries: '问答条目', navTry: '试问', navGaps: '知识缺口', navRegression: '回归测试',
      navSynonyms: '同义词', navImport: '导入 / 导出',
      langSwitch: 'English', logout: '退出登录',
      roleAdmin: '管理员', roleEditor: '编辑', roleAgent: '客服',
      loginTitle: '登录知识库管理', loginHint: '使用员工账号登录。', username: '用户名', password: '密码',
      login: '登录', loggingIn: '正在登录…',
      errCredentials: '用户名或密码不正确。', errLocked: '登录失败次数过多，账号已暂时锁定，请稍后再试。',
      errLockedFor: '登录失败次数过多，账号已锁定，请在 {n} 分钟后再试。',
      errCsrf: '安全校验失败，请刷新页面后重试。', errUnauthenticated: '登录已过期，请重新登录。',
      errForbidden: '您的账号没有权限执行此操作。', errNotFound: '找不到该条目、版本、用例或缺口（可能已被他人删除）。',
      errTooLarge: '内容过大，超出服务器的限制。', errNetwork: '无法连接服务器，请检查网络后重试。',
      errInternal: '服务器出错了，请稍后再试。', errInvalid: '输入有问题，未保存任何内容。',
      errStatus: '请求失败（HTTP {n}）。', errMissingRoute: '服务器没有提供此功能（HTTP 404）。',
      serverSays: '服务器信息：',
      noAccessTitle: '无权访问知识库',
      noAccessText: '{name}，您的角色是「{role}」，没有知识库的访问权限。如需编辑问答，请联系管理员将您设为「编辑」或「管理员」。',
      fatalTitle: '页面无法加载', retry: '重试',
      search: '搜索', searchPlaceholder: '编号、问题、相似问法或答案中的文字',
      locale: '语言', category: '分类', tag: '标签', tags: '标签', status: '状态',
      any: '全部', localeBoth: '中英通用', localeZh: '中文', localeEn: '英文',
      localeAnyEntry: '中英通用（两种语言都可回答）',
      statusActive: '未删除', statusEnabled: '已启用', statusDisabled: '已停用',
      statusDeleted: '已删除', statusAll: '全部（含已删除）',
      badgeEnabled: '启用', badgeDisabled: '停用', badgeDeleted: '已删除',
      colId: '编号', idPlaceholder: '例如 ship-remote-zh', colQuestion: '问题', colVersion: '版本', colUpdated: '最后修改', colActions: '操作',
      newEntry: '新建条目', edit: '编辑', history: '历史', disable: '停用', enable: '启用', del: '删除', restore: '恢复',
      prev: '上一页', next: '下一页', perPage: '每页',
      pageInfo: '第 {from}–{to} 条，共 {total} 条', countEntries: '共 {n} 条',
      noEntries: '没有符合条件的条目。', loading: '加载中…',
      altCount: '+{n} 种问法',
      entryCreate: '新建条目', entryEdit: '编辑条目 {id}', entryFromGap: '由知识缺口新建条目',
      entryMeta: '版本 {v} · {by} 于 {at} 修改',
      question: '问题', alternates: '相似问法', alternatesHint: '每行一个',
      answer: '答案', answerHint: '纯文本，支持简单 Markdown',
      tagsHint: '用逗号分隔', disabledLabel: '停用（保留条目，但机器人不用它回答）',
      saveShortcut: 'Ctrl+Enter 保存 · Esc 取消', save: '保存', saving: '正在保存…', cancel: '取消', close: '关闭',
      needId: '请填写编号。', needQuestion: '请填写问题。', needAnswer: '请填写答案。',
      conflictEdit: '在您编辑期间，其他人修改了这个条目。您的修改尚未保存。',
      conflictEditBy: '在您编辑期间，{by} 于 {at} 修改了这个条目（现为版本 {v}）。您的修改尚未保存。',
      conflictCreate: '编号 {id} 已被占用（也可能是一个已删除的条目，可在“已删除”中找到并恢复）。',
      reloadEntry: '载入最新版本（放弃我的修改）',
      saved: '已保存 {id}', created: '已新建 {id}', disabled: '已停用 {id}', enabled: '已启用 {id}',
      deleted: '已删除 {id}', restored: '已恢复 {id}',
      confirmDelete: '删除条目 {id}？删除后机器人不再使用它，也不会导出；之后可以在“已删除”中恢复。',
      confirmRollback: '把 {id} 回滚到版本 {v}？当前内容会被版本 {v} 的内容替换（作为一个新版本，历史不会丢失）。',
      confirmReplace: '替换模式会删除知识库中文件里没有的所有条目（可恢复）。继续导入？',
      confirmDeleteCase: '删除这个回归用例？', confirmDismiss: '忽略这个缺口？顾客再次提问时它会重新出现。',
      historyTitle: '{id} 的修改历史', current: '当前', rollback: '回滚到此版本',
      rolledBack: '已将 {id} 回滚到版本 {v}', fromVersion: '（来自版本 {v}）',
      actCreate: '新建', actUpdate: '修改', actDisable: '停用', actEnable: '启用', actDelete: '删除',
      actRestore: '恢复', actRollback: '回滚', actImport: '导入',
      noChanges: '内容无变化', showContent: '查看此版本内容', orderChanged: '顺序调整',
      fieldQuestion: '问题', fieldAlternates: '相似问法', fieldAnswer: '答案', fieldCategory: '分类',
      fieldTags: '标签', fieldLocale: '语言', fieldDisabled: '停用', yes: '是', no: '否', none: '（空）',
      tryHint: '像机器人一样检索知识库：看看一个问题会命中哪些条目、置信度多少、机器人会不会回答。',
      tryPlaceholder: '输入顾客可能会问的问题', tryGo: '试问',
      wouldAnswer: '机器人会回答', wouldDecline: '机器人会拒答（转为追问或转人工）',
      verdictDetail: '第一条的置信度 {c}，回答阈值 {t}', verdictNoHits: '没有任何条目匹配，回答阈值 {t}',
      confidence: '置信度', score: '得分', similarity: '语义相似度', matchedWords: '命中词', matchedPhrasing: '最佳匹配问法',
      noMatchInfo: '服务器未提供命中词，无法标出命中的词。', noHits: '没有匹配的条目。',
      saveCase: '存为回归用例', saveDeclineCase: '存为“应拒答”用例', caseSaved: '已存为回归用例',
      gapsHint: '顾客问过、但机器人没能很好回答的问题：没有把握的回答、差评或转人工。按被问次数排序。',
      gapOpen: '待处理', gapResolved: '已解决', gapDismissed: '已忽略',
      gapWording: '顾客问法', gapCount: '次数', gapReasons: '原因', gapLastSeen: '最近一次', gapBest: '最接近的条目', gapBestGone: '（该条目已删除）',
      reasonUnanswered: '未回答 {n}', reasonThumbsDown: '差评 {n}', reasonHandoff: '转人工 {n}',
      gapNewEntry: '新建条目', gapAddAlt: '加为相似问法', gapDismiss: '忽略', gapReopen: '重新打开',
      gapResolvedTo: '已加入 {id}', gapBy: '{by} · {at}', noGaps: '没有这种状态的缺口。',
      gapDismissedToast: '已忽略', gapReopenedToast: '已重新打开',
      countGaps: '{n} 个', refresh: '刷新',
      altTitle: '加为相似问法', altPhrasing: '问法', altTarget: '加到哪个条目',
      altSearch: '搜索其他条目（编号或文字）', altSave: '添加', altBest: '提问时最接近', altNone: '没有找到条目。',
      altPick: '请选择一个条目。', altAdded: '已把问法加到 {id}',
      rgHint: '每个用例是一个问题和应当回答它的条目（或应当拒答）。每次导入前都会运行，变差的导入会被拒绝。',
      rgRun: '运行全部', rgRunning: '运行中…', rgExpected: '应答条目', rgExpectedPlaceholder: '条目编号；留空 = 应拒答',
      rgAdd: '添加用例', rgAdded: '添加人', rgResult: '结果', note: '备注', mustDecline: '应拒答',
      rgPass: '通过', rgFail: '未通过', rgGot: '实际：{id}（{c}）', rgGotNone: '实际：拒答', rgDeclined: '会拒答',
      rgSummary: '通过 {p}/{n} · 命中率 hit@1 {h} · 范围外拒答率 {o}', rgNoCases: '还没有回归用例。',
      countCases: '{n} 个用例', caseAdded: '已添加用例', caseDeleted: '已删除用例',
      synHint: '同义词在检索时生效，保存后下一次检索即生效，无需重建索引。每行一组，用“=”连接，例如：快递 = 物流 = 包裹',
      synDefault: '当前使用的是内置的默认电商同义词表。保存后将改用您的列表。',
      synUpdated: '最后由 {by} 于 {at} 修改。', synReload: '放弃修改', synSaved: '同义词已保存',
      synLocale: '{l} 同义词', synLineProblem: '{l} 第 {n} 行：一组至少需要两个词，用“=”分隔。', synWhere: '{l} 第 {n} 行',
      impTitle: '导入', impHint: '文件格式按扩展名识别：.csv、.json、.md。整个文件要么全部导入，要么不导入。',
      impFile: 'FAQ 文件', impReplace: '替换：删除文件中没有的条目', impReplaceHint: '不勾选时，只新建和更新文件中的条目。',
      impCheck: '检查（试运行）', impRun: '导入', impChecking: '检查中…', impImporting: '导入中…',
      impNoFile: '请先选择文件。', impBadExt: '无法识别的文件类型 {ext}：请使用 .csv、.json 或 .md 文件。',
      impFormat: '{name} · {size} · 格式 {f}',
      impDry: '试运行：检查通过，未做任何修改。', impDone: '导入完成。',
      impEntries: '文件中的条目', impCreated: '新建', impUpdated: '更新', impUnchanged: '未变', impDeleted: '删除',
      impRegression: '回归测试：{pb}/{nb} → {pa}/{na} 通过；hit@1 {hb} → {ha}；范围外拒答 {ob} → {oa}',
      impNoRegression: '没有回归用例，未做回归检查。',
      impRefused: '导入被拒绝：回归测试结果会变差，未做任何修改。', impFailures: '会失败的用例：',
      impProblems: '文件有 {n} 个问题，未导入任何内容：',
      thQuery: '问题', thExpected: '应答', thGot: '导入后', thConfidence: '置信度',
      line: '第 {n} 行', item: '第 {n} 项',
      expTitle: '导出', expHint: '下载当前所有未删除的条目。',
      reload: '重新载入',
      flagInvalidUTF8: '无效字符已替换', flagHTML: '已移除 HTML', flagHidden: '被隐藏的文字（现已显示）',
      flagEntity: 'HTML 实体已转为字符', flagInvisible: '已移除不可见字符', flagControl: '已移除控制字符',
      flagInstruction: '疑似指令文字', flagImage: '图片（按文字显示）', flagLink: '非 http(s) 链接（按文字显示）',
      fieldAlternateN: '相似问法 {n}', fieldTagN: '标签 {n}', colon: '：',
      noticeChanged: '已保存 {id}，但安全检查修改了其中的文字。', noticeFound: '已保存 {id}。其中有文字需要您检查。',
      noticeRemoved: '为了安全已移除或修改：', noticeCheck: '原样保留，请检查：', dismiss: '知道了',
      entryFlags: '安全检查发现这个条目中有文字需要检查：',
      impFlagged: '{n} 个条目被清理或标记', impFlaggedDry: '导入时 {n} 个条目会被清理或标记',
      impFlaggedDetail: '{c} 个有文字被移除或修改，{f} 个有需要检查的文字。', impFlaggedShow: '查看这些条目',
      impFlaggedMore: '……另有 {n} 个条目未列出。'
    },
    en: {
      brand: 'Xiaoer · Knowledge base',
      navEntries: 'Entries', navTry: 'Try a question', navGaps: 'Gaps', navRegression: 'Regression set',
      navSynonyms: 'Synonyms', navImport: 'Import / export',
      langSwitch: '中文', logout: 'Log out',
      roleAdmin: 'Admin', roleEditor: 'Editor', roleAgent: 'Agent',
      loginTitle: 'Sign in to the knowledge base', loginHint: 'Use your staff account.', username: 'Username', password: 'Password',
      login: 'Sign in', loggingIn: 'Signing in…',
      errCredentials: 'Wrong username or password.', errLocked: 'Too many failed sign-ins: the account is locked for a while. Try again later.',
      errLockedFor: 'Too many failed sign-ins: the account is locked. Try again in {n} min.',
      errCsrf: 'The security check failed. Reload the page and try again.', errUnauthenticated: 'Your session has ended. Please sign in again.',
      errForbidden: 'Your account may not do this.', errNotFound: 'No such entry, version, case or gap (someone may have deleted it).',
      errTooLarge: 'That is larger than the server accepts.', errNetwork: 'Cannot reach the server. Check the connection and try again.',
      errInternal: 'The server had a problem. Try again later.', errInvalid: 'The input has a problem; nothing was saved.',
      errStatus: 'The request failed (HTTP {n}).', errMissingRoute: 'The server does not offer this (HTTP 404).',
      serverSays: 'Server: ',
      noAccessTitle: 'No access to the knowledge base',
      noAccessText: '{name}, your role is “{role}”, which has no access to the knowledge base. Ask an admin to make you an editor if you need to edit answers.',
      fatalTitle: 'The page could not load', retry: 'Retry',
      search: 'Search', searchPlaceholder: 'Text in the id, question, phrasings or answer',
      locale: 'Language', category: 'Category', tag: 'Tag', tags: 'Tags', status: 'Status',
      any: 'All', localeBoth: 'Both', localeZh: 'Chinese', localeEn: 'English',
      localeAnyEntry: 'Both (answers in either language)',
      statusActive: 'Not deleted', statusEnabled: 'Enabled', statusDisabled: 'Disabled',
      statusDeleted: 'Deleted', statusAll: 'All (with deleted)',
      badgeEnabled: 'enabled', badgeDisabled: 'disabled', badgeDeleted: 'deleted',
      colId: 'ID', idPlaceholder: 'e.g. ship-remote-zh', colQuestion: 'Question', colVersion: 'Ver.', colUpdated: 'Updated', colActions: 'Actions',
      newEntry: 'New entry', edit: 'Edit', history: 'History', disable: 'Disable', enable: 'Enable', del: 'Delete', restore: 'Restore',
      prev: 'Previous', next: 'Next', perPage: 'Per page',
      pageInfo: '{from}–{to} of {total}', countEntries: '{n} entries',
      noEntries: 'No entries match.', loading: 'Loading…',
      altCount: '+{n} phrasings',
      entryCreate: 'New entry', entryEdit: 'Edit entry {id}', entryFromGap: 'New entry from a gap',
      entryMeta: 'version {v} · changed by {by} at {at}',
      question: 'Question', alternates: 'Other phrasings', alternatesHint: 'one per line',
      answer: 'Answer', answerHint: 'plain text with simple Markdown',
      tagsHint: 'comma-separated', disabledLabel: 'Disabled (kept, but the bot never answers with it)',
      saveShortcut: 'Ctrl+Enter saves · Esc cancels', save: 'Save', saving: 'Saving…', cancel: 'Cancel', close: 'Close',
      needId: 'The id is required.', needQuestion: 'The question is required.', needAnswer: 'The answer is required.',
      conflictEdit: 'Someone else changed this entry while you were editing it. Your changes are not saved.',
      conflictEditBy: '{by} changed this entry at {at} (now version {v}) while you were editing it. Your changes are not saved.',
      conflictCreate: 'The id {id} is taken (perhaps by a deleted entry: find it under “Deleted” and restore it).',
      reloadEntry: 'Load the latest version (discard my changes)',
      saved: 'Saved {id}', created: 'Created {id}', disabled: 'Disabled {id}', enabled: 'Enabled {id}',
      deleted: 'Deleted {id}', restored: 'Restored {id}',
      confirmDelete: 'Delete entry {id}? The bot stops using it and exports leave it out; you can restore it from “Deleted”.',
      confirmRollback: 'Roll {id} back to version {v}? Its current content is replaced by version {v}’s, as a new version (no history is lost).',
      confirmReplace: 'Replace deletes every entry that is not in the file (they can be restored). Import?',
      confirmDeleteCase: 'Delete this regression case?', confirmDismiss: 'Dismiss this gap? It comes back if shoppers ask it again.',
      historyTitle: 'History of {id}', current: 'current', rollback: 'Roll back to this version',
      rolledBack: 'Rolled {id} back to version {v}', fromVersion: '(from version {v})',
      actCreate: 'created', actUpdate: 'edited', actDisable: 'disabled', actEnable: 'enabled', actDelete: 'deleted',
      actRestore: 'restored', actRollback: 'rolled back', actImport: 'imported',
      noChanges: 'No content change', showContent: 'Show this version', orderChanged: 'order changed',
      fieldQuestion: 'Question', fieldAlternates: 'Phrasings', fieldAnswer: 'Answer', fieldCategory: 'Category',
      fieldTags: 'Tags', fieldLocale: 'Language', fieldDisabled: 'Disabled', yes: 'yes', no: 'no', none: '(empty)',
      tryHint: 'Search the knowledge base the way the bot does: which entries a question finds, how confident the match is, and whether the bot would answer.',
      tryPlaceholder: 'A question a shopper might ask', tryGo: 'Try',
      wouldAnswer: 'The bot would answer', wouldDecline: 'The bot would decline (ask back or offer a person)',
      verdictDetail: 'top confidence {c}, threshold {t}', verdictNoHits: 'no entry matches; threshold {t}',
      confidence: 'Confidence', score: 'Score', similarity: 'Similarity', matchedWords: 'Matched', matchedPhrasing: 'Best phrasing',
      noMatchInfo: 'The server does not report which words matched, so none are marked.', noHits: 'No entry matches.',
      saveCase: 'Save as regression case', saveDeclineCase: 'Save as “must decline” case', caseSaved: 'Saved as a regression case',
      gapsHint: 'Questions shoppers asked that the bot did not answer well: no confident answer, a thumbs-down, or a handoff. Most asked first.',
      gapOpen: 'Open', gapResolved: 'Resolved', gapDismissed: 'Dismissed',
      gapWording: 'Shopper wording', gapCount: 'Asked', gapReasons: 'Why', gapLastSeen: 'Last seen', gapBest: 'Best candidate', gapBestGone: '(deleted since)',
      reasonUnanswered: 'unanswered {n}', reasonThumbsDown: 'thumbs-down {n}', reasonHandoff: 'handoff {n}',
      gapNewEntry: 'New entry', gapAddAlt: 'Add as phrasing', gapDismiss: 'Dismiss', gapReopen: 'Reopen',
      gapResolvedTo: 'added to {id}', gapBy: '{by} · {at}', noGaps: 'No gaps with this status.',
      gapDismissedToast: 'Dismissed', gapReopenedToast: 'Reopened',
      countGaps: '{n} gaps', refresh: 'Refresh',
      altTitle: 'Add as another phrasing', altPhrasing: 'Phrasing', altTarget: 'Add it to',
      altSearch: 'Search another entry (id or text)', altSave: 'Add', altBest: 'best when asked', altNone: 'No entry found.',
      altPick: 'Pick an entry.', altAdded: 'Added the phrasing to {id}',
      rgHint: 'Each case is a question and the entry that must answer it (or none: the bot must decline). The set runs before every import; an import that makes it worse is refused.',
      rgRun: 'Run all', rgRunning: 'Running…', rgExpected: 'Expected entry', rgExpectedPlaceholder: 'entry id; empty = must decline',
      rgAdd: 'Add case', rgAdded: 'Added by', rgResult: 'Result', note: 'Note', mustDecline: 'must decline',
      rgPass: 'pass', rgFail: 'fail', rgGot: 'got {id} ({c})', rgGotNone: 'got: declined', rgDeclined: 'would decline',
      rgSummary: 'passed {p}/{n} · hit@1 {h} · out-of-scope declined {o}', rgNoCases: 'No regression cases yet.',
      countCases: '{n} cases', caseAdded: 'Case added', caseDeleted: 'Case deleted',
      synHint: 'Synonyms apply when searching: a saved change works from the next search, with no reindex. One group per line, joined with “=”, e.g. shipping = delivery = postage',
      synDefault: 'The shipped default e-commerce list is in force. Saving replaces it with yours.',
      synUpdated: 'Last changed by {by} at {at}.', synReload: 'Discard changes', synSaved: 'Synonyms saved',
      synLocale: '{l} synonyms', synLineProblem: '{l} line {n}: a group needs at least two terms separated by “=”.', synWhere: '{l} line {n}',
      impTitle: 'Import', impHint: 'The format comes from the extension: .csv, .json or .md. A file is imported whole or not at all.',
      impFile: 'FAQ file', impReplace: 'Replace: delete entries the file does not contain', impReplaceHint: 'Unticked, only the file’s entries are created or updated.',
      impCheck: 'Check (dry run)', impRun: 'Import', impChecking: 'Checking…', impImporting: 'Importing…',
      impNoFile: 'Choose a file first.', impBadExt: 'Unknown file type {ext}: use a .csv, .json or .md file.',
      impFormat: '{name} · {size} · format {f}',
      impDry: 'Dry run: the file checks out; nothing was changed.', impDone: 'Imported.',
      impEntries: 'Entries in the file', impCreated: 'Created', impUpdated: 'Updated', impUnchanged: 'Unchanged', impDeleted: 'Deleted',
      impRegression: 'Regression set: {pb}/{nb} → {pa}/{na} passed; hit@1 {hb} → {ha}; out-of-scope declined {ob} → {oa}',
      impNoRegression: 'No regression cases, so no regression check.',
      impRefused: 'Import refused: the regression set would get worse. Nothing was changed.', impFailures: 'Cases that would break:',
      impProblems: 'The file has {n} problem(s); nothing was imported:',
      thQuery: 'Question', thExpected: 'Expected', thGot: 'After import', thConfidence: 'Confidence',
      line: 'line {n}', item: 'item {n}',
      expTitle: 'Export', expHint: 'Download every entry that is not deleted.',
      reload: 'Reload',
      flagInvalidUTF8: 'invalid characters replaced', flagHTML: 'HTML removed', flagHidden: 'hidden text (now shown)',
      flagEntity: 'HTML entities turned into characters', flagInvisible: 'invisible characters removed', flagControl: 'control characters removed',
      flagInstruction: 'instruction-like text', flagImage: 'image (shown as text)', flagLink: 'link that is not http(s) (shown as text)',
      fieldAlternateN: 'Phrasing {n}', fieldTagN: 'Tag {n}', colon: ': ',
      noticeChanged: 'Saved {id}, but the safe-content check changed some of its text.', noticeFound: 'Saved {id}. Some of its text needs a look.',
      noticeRemoved: 'Removed or changed to make it safe:', noticeCheck: 'Kept as it is; check it:', dismiss: 'Dismiss',
      entryFlags: 'The safe-content check found text in this entry to look at:',
      impFlagged: '{n} entries were cleaned or flagged', impFlaggedDry: '{n} entries would be cleaned or flagged',
      impFlaggedDetail: '{c} had text removed or changed; {f} have text to check.', impFlaggedShow: 'Show them',
      impFlaggedMore: '… and {n} more entries, not listed.'
    }
  };

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

  function lsGet(k) { try { return window.localStorage.getItem(k); } catch (e) { return null; } }
  function lsSet(k, v) { try { window.localStorage.setItem(k, v); } catch (e) { /* private mode */ } }

  /* ------------------------------------------------------------------ */
  /* DOM helpers: text only, never HTML                                  */
  /* ------------------------------------------------------------------ */

  function $(id) { return document.getElementById(id); }

  // h builds an element. props: class, text, title, and any attribute
  // (data-*, aria-*, type, ...); children are nodes or strings (as text).
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

  function pad(n) { return n < 10 ? '0' + n : String(n); }

  // fmtTime shows a server time as local "YYYY-MM-DD HH:MM"; "—" for none.
  function fmtTime(iso) {
    if (!iso || String(iso).indexOf('0001-') === 0) return '—';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes());
  }

  function timeEl(iso) {
    return h('time', { datetime: iso || null, title: iso || null, text: fmtTime(iso) });
  }

  function pct(x) {
    if (typeof x !== 'number' || isNaN(x)) return '—';
    return (Math.round(x * 1000) / 10) + '%';
  }

  function num2(x) {
    return typeof x === 'number' && !isNaN(x) ? x.toFixed(2) : '—';
  }

  function fmtSize(n) {
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
    return (n / 1024 / 1024).toFixed(1) + ' MiB';
  }

  function localeLabel(l) {
    if (l === 'zh-CN') return t('localeZh');
    if (l === 'en') return t('localeEn');
    if (!l) return t('localeBoth');
    return l;
  }

  function roleLabel(r) {
    if (r === 'admin') return t('roleAdmin');
    if (r === 'editor') return t('roleEditor');
    if (r === 'agent') return t('roleAgent');
    return r || '';
  }

  // confBar is a confidence in [0, 1] as a bar and a number.
  function confBar(c, threshold) {
    var v = typeof c === 'number' && !isNaN(c) ? Math.max(0, Math.min(1, c)) : 0;
    var fill = h('span', { class: 'conf-fill' });
    fill.style.width = (v * 100).toFixed(1) + '%';
    var bar = h('span', { class: 'conf-bar' + (threshold != null && v >= threshold ? ' conf-ok' : ''), role: 'img',
      'aria-label': t('confidence') + ' ' + num2(c) }, fill);
    if (threshold != null) {
      var mark = h('span', { class: 'conf-threshold' });
      mark.style.left = (Math.max(0, Math.min(1, threshold)) * 100).toFixed(1) + '%';
      bar.appendChild(mark);
    }
    return h('span', { class: 'conf', 'data-confidence': String(c) }, bar, h('span', { class: 'conf-num', text: num2(c) }));
  }

  // highlight returns text as nodes with every occurrence of a word in
  // words wrapped in <mark> (case-insensitive, longest word first).
  function highlight(text, words) {
    text = text == null ? '' : String(text);
    var ws = (words || []).filter(function (w) { return w && String(w).trim(); }).map(String);
    if (!ws.length || !text) return [text];
    ws.sort(function (a, b) { return b.length - a.length; });
    var lower = text.toLowerCase();
    var fold = lower.length === text.length; // case folding kept the offsets
    var hay = fold ? lower : text;
    var needles = ws.map(function (w) { return fold ? w.toLowerCase() : w; });
    var out = [];
    var plain = '';
    var i = 0;
    while (i < text.length) {
      var hit = 0;
      for (var j = 0; j < needles.length; j++) {
        if (needles[j].length && hay.substr(i, needles[j].length) === needles[j]) { hit = needles[j].length; break; }
      }
      if (hit) {
        if (plain) { out.push(plain); plain = ''; }
        out.push(h('mark', { text: text.substr(i, hit) }));
        i += hit;
      } else {
        plain += text.charAt(i);
        i++;
      }
    }
    if (plain) out.push(plain);
    return out;
  }

  function fillSelect(sel, options, keep) {
    var cur = keep ? sel.value : null;
    clear(sel);
    options.forEach(function (o) { sel.appendChild(h('option', { value: o[0], text: o[1] })); });
    if (cur != null) {
      for (var i = 0; i < sel.options.length; i++) {
        if (sel.options[i].value === cur) { sel.value = cur; return; }
      }
    }
  }

  /* ------------------------------------------------------------------ */
  /* Safe-content flags                                                  */
  /* ------------------------------------------------------------------ */

  // Every save makes an entry safe content (knowledge.Sanitize) and says
  // what it removed or changed and what it found; a record read back
  // carries only the findings (docs/admin-api.md).
  var FLAG_KINDS = { invalid_utf8: 'flagInvalidUTF8', html_removed: 'flagHTML', hidden_text: 'flagHidden',
    entity_decoded: 'flagEntity', invisible_removed: 'flagInvisible', control_removed: 'flagControl',
    instruction_like: 'flagInstruction', image: 'flagImage', unsafe_link: 'flagLink' };
  // Findings point at text that is kept; the other kinds say what was removed or changed.
  var FLAG_FINDINGS = { hidden_text: true, instruction_like: true, image: true, unsafe_link: true };

  function isFinding(f) { return !!FLAG_FINDINGS[f.kind]; }

  function flagsOf(rec) {
    return rec && Array.isArray(rec.flags) ? rec.flags.filter(function (f) { return f && typeof f === 'object'; }) : [];
  }

  function flagKindLabel(kind) { return FLAG_KINDS[kind] ? t(FLAG_KINDS[kind]) : String(kind || ''); }

  // flagFieldLabel names a flag's field: "answer", "alternates[1]" (Phrasing 2), "tags[0]" (Tag 1).
  function flagFieldLabel(field) {
    var m = /^([a-z_]+)(?:\[(\d+)\])?$/.exec(field || '');
    if (!m) return String(field || '');
    if (m[2] != null && m[1] === 'alternates') return t('fieldAlternateN', { n: parseInt(m[2], 10) + 1 });
    if (m[2] != null && m[1] === 'tags') return t('fieldTagN', { n: parseInt(m[2], 10) + 1 });
    var key = { question: 'fieldQuestion', alternates: 'fieldAlternates', answer: 'fieldAnswer', category: 'fieldCategory', tags: 'fieldTags' }[m[1]];
    return key ? t(key) : m[1];
  }

  function flagKinds(flags) {
    var kinds = [];
    flags.forEach(function (f) { if (kinds.indexOf(f.kind) < 0) kinds.push(f.kind); });
    return kinds;
  }

  // flagList lists flags: "Answer · HTML removed: <script>…", the excerpt as text.
  function flagList(flags) {
    return h('ul', { class: 'flag-list' }, flags.map(function (f) {
      return h('li', { 'data-field': f.field || '', 'data-kind': f.kind || '' },
        h('span', { class: 'flag-field', text: flagFieldLabel(f.field) }), ' · ',
        h('span', { class: 'flag-kind', text: flagKindLabel(f.kind) }),
        f.excerpt ? [t('colon'), h('code', { class: 'excerpt', text: f.excerpt })] : null);
    }));
  }

  // flagBadges are an entry's warning badges, one per kind, the details in the title.
  function flagBadges(flags) {
    return flagKinds(flags).map(function (k) {
      var details = flags.filter(function (f) { return f.kind === k; })
        .map(function (f) { return flagFieldLabel(f.field) + (f.excerpt ? t('colon') + f.excerpt : ''); });
      return h('span', { class: 'badge badge-flag', 'data-kind': k, title: details.join('\n'), text: '⚠ ' + flagKindLabel(k) });
    });
  }

  // flagSections are flags in two lists: what was removed or changed, and what was found.
  function flagSections(flags) {
    var removed = flags.filter(function (f) { return !isFinding(f); });
    var found = flags.filter(isFinding);
    return [
      removed.length ? [h('p', { class: 'notice-sub', text: t('noticeRemoved') }), flagList(removed)] : null,
      found.length ? [h('p', { class: 'notice-sub', text: t('noticeCheck') }), flagList(found)] : null
    ];
  }

  /* ------------------------------------------------------------------ */
  /* API                                                                 */
  /* ------------------------------------------------------------------ */

  var session = { user: null, csrf: '' };

  // ApiError is a failed request: status (0 when the server could not be
  // reached), the API's code, message and problems, and the whole error body.
  function ApiError(status, body, text) {
    var e = body && body.error && typeof body.error === 'object' ? body.error : null;
    this.status = status;
    this.code = e && e.code ? String(e.code) : (status === 0 ? 'network' : '');
    this.message = e && e.message ? String(e.message) : String(text || '').trim().slice(0, 300);
    this.problems = e && Array.isArray(e.problems) ? e.problems : [];
    this.body = e || {};
    this.retryAfter = 0;
  }

  // api calls the server. body is JSON unless opts.raw (then it is sent as
  // it is, with opts.type). It resolves to the decoded JSON (null when
  // empty) and rejects with an ApiError.
  function api(method, path, body, opts) {
    opts = opts || {};
    var headers = { 'Accept': 'application/json' };
    var init = { method: method, headers: headers, credentials: 'same-origin', cache: 'no-store' };
    if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
    if (body !== undefined) {
      if (opts.raw) {
        init.body = body;
        headers['Content-Type'] = opts.type || 'application/octet-stream';
      } else {
        init.body = JSON.stringify(body);
        headers['Content-Type'] = 'application/json';
      }
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
        if (res.status === 403 && err.code === 'forbidden' && !opts.quiet403) noAccess();
        throw err;
      });
    }, function (netErr) {
      throw new ApiError(0, null, netErr && netErr.message);
    });
  }

  function q(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (v == null || v === '') return;
      (Array.isArray(v) ? v : [v]).forEach(function (x) {
        parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(x));
      });
    });
    return parts.length ? '?' + parts.join('&') : '';
  }

  function enc(id) { return encodeURIComponent(id); }

  // errorHeadline is a short sentence in the page's language for err.
  function errorHeadline(err) {
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
      // With problems listed, say it in the page's language; they follow.
      case 'invalid': return err.problems.length ? t('errInvalid') : (err.message || t('errInvalid'));
    }
    if (err.status === 404 && !err.code) return t('errMissingRoute');
    return err.message || t('errStatus', { n: err.status });
  }

  // squash reduces a sentence to its letters, to tell whether two say the same.
  function squash(s) { return String(s).toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ''); }

  // problemLine spells one problem: "line 3 · a1: question is empty".
  function problemLine(p) {
    var where = [];
    if (p.line) where.push(t('line', { n: p.line }));
    else if (p.where) where.push(p.where);
    else if (p.item) where.push(t('item', { n: p.item }));
    if (p.id) where.push(p.id);
    return (where.length ? where.join(' · ') + ': ' : '') + (p.message || '');
  }

  // showError fills box with err: a headline in the page's language, the
  // server's own message when it says more, and every problem.
  function showError(box, err, extra) {
    clear(box);
    box.removeAttribute('data-code');
    if (!err) { box.hidden = true; return; }
    if (typeof err === 'string') {
      box.appendChild(h('p', { class: 'alert-title', text: err }));
    } else {
      var head = errorHeadline(err);
      box.appendChild(h('p', { class: 'alert-title', text: head }));
      if (err.message && squash(err.message) !== squash(head) && err.code !== 'invalid') {
        box.appendChild(h('p', { class: 'alert-detail', text: t('serverSays') + err.message }));
      }
      if (err.problems.length > 1 || (err.problems.length === 1 && problemLine(err.problems[0]) !== head)) {
        var ul = h('ul', { class: 'problems' });
        err.problems.forEach(function (p) {
          ul.appendChild(h('li', { 'data-line': p.line || null, 'data-item': p.item || null, text: problemLine(p) }));
        });
        box.appendChild(ul);
      }
      box.setAttribute('data-code', err.code || String(err.status));
    }
    append(box, extra);
    box.hidden = false;
  }

  function hideError(box) { clear(box); box.hidden = true; box.removeAttribute('data-code'); }

  var toastTimer = 0;
  function toast(text) {
    var el = $('toast');
    el.textContent = text;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.hidden = true; }, 4000);
  }

  // saved is the notice about the last save the safe-content check changed
  // or flagged: {id, flags, history} (history: shown in the history dialog
  // too), or null. It stays until dismissed, the next save or another view.
  var saved = null;

  // savedNotice notes a saved record's flags. After a content save
  // (create, edit, rollback, a gap's entry or phrasing) every flag is
  // worth showing; after disable, enable, delete or restore only a change
  // is (the findings are already on the entry's badges).
  function savedNotice(rec, contentSave, history) {
    var flags = flagsOf(rec);
    if (!contentSave && !flags.some(function (f) { return !isFinding(f); })) flags = [];
    saved = flags.length ? { id: rec.id, flags: flags, history: !!history } : null;
    renderSavedNotice();
  }

  function clearSavedNotice() {
    saved = null;
    renderSavedNotice();
  }

  function renderSavedNotice() {
    [['save-notice', true], ['history-notice', saved && saved.history]].forEach(function (w) {
      var box = clear($(w[0]));
      box.removeAttribute('data-id');
      box.removeAttribute('data-kinds');
      if (!saved || !w[1]) { box.hidden = true; return; }
      var changed = saved.flags.some(function (f) { return !isFinding(f); });
      box.setAttribute('data-id', saved.id);
      box.setAttribute('data-kinds', flagKinds(saved.flags).join(' '));
      box.appendChild(h('div', { class: 'notice-head' },
        h('strong', { class: 'notice-title', text: t(changed ? 'noticeChanged' : 'noticeFound', { id: saved.id }) }),
        h('span', { class: 'grow' }),
        button(t('dismiss'), { class: 'btn btn-small btn-quiet', 'data-action': 'dismiss-notice' })));
      append(box, flagSections(saved.flags));
      box.hidden = false;
    });
  }

  ['save-notice', 'history-notice'].forEach(function (id) {
    $(id).addEventListener('click', function (ev) {
      if (ev.target.closest('button[data-action="dismiss-notice"]')) clearSavedNotice();
    });
  });

  /* ------------------------------------------------------------------ */
  /* Dialogs                                                             */
  /* ------------------------------------------------------------------ */

  function openDialog(d) {
    if (!d.open) d.showModal();
  }

  function closeDialog(d) {
    if (d.open) d.close();
  }

  var confirmResolve = null;

  // ask shows a yes/no question; it resolves to true when confirmed.
  function ask(text, okLabel) {
    var d = $('confirm-dialog');
    $('confirm-text').textContent = text;
    $('confirm-ok').textContent = okLabel || t('save');
    if (confirmResolve) confirmResolve(false);
    return new Promise(function (resolve) {
      confirmResolve = resolve;
      openDialog(d);
      $('confirm-cancel').focus();
    });
  }

  function answerConfirm(v) {
    var r = confirmResolve;
    confirmResolve = null;
    closeDialog($('confirm-dialog'));
    if (r) r(v);
  }

  $('confirm-ok').addEventListener('click', function () { answerConfirm(true); });
  $('confirm-cancel').addEventListener('click', function () { answerConfirm(false); });
  $('confirm-dialog').addEventListener('close', function () { if (confirmResolve) answerConfirm(false); });

  /* ------------------------------------------------------------------ */
  /* Language                                                            */
  /* ------------------------------------------------------------------ */

  var OPTIONS = {
    // "any" lists the entries for both languages (locale "").
    localeFilter: function () { return [['', t('any')], ['zh-CN', t('localeZh')], ['en', t('localeEn')], ['any', t('localeBoth')]]; },
    localeSearch: function () { return [['', t('any')], ['zh-CN', t('localeZh')], ['en', t('localeEn')]]; },
    localeEntry: function () { return [['zh-CN', t('localeZh')], ['en', t('localeEn')], ['', t('localeAnyEntry')]]; },
    statusFilter: function () {
      return [['active', t('statusActive')], ['enabled', t('statusEnabled')], ['disabled', t('statusDisabled')],
        ['deleted', t('statusDeleted')], ['all', t('statusAll')]];
    },
    gapStatus: function () {
      return [['open', t('gapOpen')], ['resolved', t('gapResolved')], ['dismissed', t('gapDismissed')], ['all', t('any')]];
    }
  };

  function applyLang() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    var nodes = document.querySelectorAll('[data-i18n]');
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = t(nodes[i].getAttribute('data-i18n'));
    nodes = document.querySelectorAll('[data-i18n-placeholder]');
    for (i = 0; i < nodes.length; i++) nodes[i].setAttribute('placeholder', t(nodes[i].getAttribute('data-i18n-placeholder')));
    nodes = document.querySelectorAll('select[data-options]');
    for (i = 0; i < nodes.length; i++) fillSelect(nodes[i], OPTIONS[nodes[i].getAttribute('data-options')](), true);
    var sw = $('lang-switch');
    sw.textContent = t('langSwitch');
    sw.setAttribute('lang', lang === 'zh' ? 'en' : 'zh-CN');
    sw.setAttribute('data-lang', lang);
    document.title = t('brand');
    $('tabs').setAttribute('aria-label', t('brand'));
    renderMe();
    renderFacetSelects();
  }

  $('lang-switch').addEventListener('click', function () {
    lang = lang === 'zh' ? 'en' : 'zh';
    lsSet(LANG_KEY, lang);
    applyLang();
    rerender();
  });

  /* ------------------------------------------------------------------ */
  /* Session                                                             */
  /* ------------------------------------------------------------------ */

  var VIEWS = ['login', 'noaccess', 'fatal', 'entries', 'try', 'gaps', 'regression', 'synonyms', 'import'];
  var current = '';

  function showView(name) {
    current = name;
    VIEWS.forEach(function (v) { show($('view-' + v), v === name); });
    var links = $('tabs').querySelectorAll('a[data-view]');
    for (var i = 0; i < links.length; i++) {
      if (links[i].getAttribute('data-view') === name) links[i].setAttribute('aria-current', 'page');
      else links[i].removeAttribute('aria-current');
    }
    document.body.setAttribute('data-view', name);
  }

  function canKB(u) {
    if (!u) return false;
    if (Array.isArray(u.permissions)) return u.permissions.indexOf('kb') >= 0;
    return u.role === 'admin' || u.role === 'editor';
  }

  function renderMe() {
    var u = session.user;
    show($('me'), !!u);
    show($('logout'), !!u);
    show($('tabs'), !!u && canKB(u));
    if (!u) return;
    $('me-name').textContent = u.display_name || u.username;
    $('me-name').title = u.username;
    $('me-role').textContent = roleLabel(u.role);
    $('me-role').setAttribute('data-role', u.role || '');
    if (current === 'noaccess') renderNoAccess();
  }

  function renderNoAccess() {
    var u = session.user || {};
    $('noaccess-text').textContent = t('noAccessText', { name: u.display_name || u.username || '', role: roleLabel(u.role) });
  }

  function signedIn(data) {
    session.user = data.user;
    session.csrf = data.csrf_token || '';
    renderMe();
    if (!canKB(session.user)) { noAccess(); return; }
    loadFacets();
    route();
  }

  function noAccess() {
    renderNoAccess();
    showView('noaccess');
    show($('tabs'), false);
  }

  function signedOut() {
    session.user = null;
    session.csrf = '';
    saved = null;
    renderSavedNotice();
    closeAllDialogs();
    renderMe();
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

  function closeAllDialogs() {
    ['entry-dialog', 'history-dialog', 'alt-dialog'].forEach(function (id) { closeDialog($(id)); });
    answerConfirm(false);
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
  /* Routing: #/entries, #/try, ...                                      */
  /* ------------------------------------------------------------------ */

  var loaders = {
    entries: function () { loadEntries(); },
    try: function () { $('try-q').focus(); },
    gaps: function () { loadGaps(); },
    regression: function () { loadCases(); },
    synonyms: function () { loadSynonyms(); },
    import: function () { }
  };

  function route() {
    if (!session.user || !canKB(session.user)) return;
    var name = (location.hash.replace(/^#\/?/, '').split(/[?/]/)[0]) || 'entries';
    if (!loaders[name]) name = 'entries';
    if (name !== current) clearSavedNotice();
    showView(name);
    loaders[name]();
  }

  window.addEventListener('hashchange', route);

  // rerender redraws the current view's data in the new language.
  function rerender() {
    if (!session.user) return;
    if (current === 'entries') renderEntries();
    else if (current === 'try') renderTry();
    else if (current === 'gaps') renderGaps();
    else if (current === 'regression') renderCases();
    else if (current === 'synonyms') renderSynonymNote();
    else if (current === 'import') renderImport();
    else if (current === 'noaccess') renderNoAccess();
    if ($('history-dialog').open) renderHistory();
    if ($('entry-dialog').open) renderEntryTitle();
    renderSavedNotice();
  }

  /* ------------------------------------------------------------------ */
  /* Facets (filter menus)                                               */
  /* ------------------------------------------------------------------ */

  var facets = { categories: [], tags: [], locales: [] };

  function loadFacets() {
    return api('GET', API + '/facets').then(function (f) {
      facets = { categories: (f && f.categories) || [], tags: (f && f.tags) || [], locales: (f && f.locales) || [] };
      renderFacetSelects();
    }, function () { /* the menus stay as they are; the list shows its own errors */ });
  }

  function facetOptions(list) {
    var out = [['', t('any')]];
    list.forEach(function (f) { out.push([f.value, f.value + ' (' + f.count + ')']); });
    return out;
  }

  function renderFacetSelects() {
    ['f-category', 'try-category'].forEach(function (id) { fillSelect($(id), facetOptions(facets.categories), true); });
    ['f-tag', 'try-tag'].forEach(function (id) { fillSelect($(id), facetOptions(facets.tags), true); });
    var dl = clear($('category-list'));
    facets.categories.forEach(function (f) { dl.appendChild(h('option', { value: f.value })); });
  }

  /* ------------------------------------------------------------------ */
  /* Entries                                                             */
  /* ------------------------------------------------------------------ */

  var list = { offset: 0, limit: 50, total: 0, entries: [], loaded: false, seq: 0 };

  function filters() {
    return {
      text: $('f-text').value.trim(), locale: $('f-locale').value, category: $('f-category').value,
      tag: $('f-tag').value, status: $('f-status').value
    };
  }

  function loadEntries() {
    var f = filters();
    f.offset = list.offset;
    f.limit = list.limit;
    var my = ++list.seq;
    $('entries-table').setAttribute('aria-busy', 'true');
    return api('GET', API + '/entries' + q(f)).then(function (data) {
      if (my !== list.seq) return;
      list.entries = data.entries || [];
      list.total = data.total || 0;
      list.loaded = true;
      hideError($('entries-error'));
      renderEntries();
    }, function (err) {
      if (my !== list.seq) return;
      showError($('entries-error'), err);
    }).then(function () {
      if (my === list.seq) {
        $('entries-table').removeAttribute('aria-busy');
        $('entries-table').setAttribute('data-loaded', String(list.seq));
      }
    });
  }

  function statusOf(r) {
    if (r.deleted) return 'deleted';
    return r.disabled ? 'disabled' : 'enabled';
  }

  function badge(status) {
    var key = { enabled: 'badgeEnabled', disabled: 'badgeDisabled', deleted: 'badgeDeleted' }[status];
    return h('span', { class: 'badge badge-' + status, 'data-status': status, text: t(key) });
  }

  function tagChips(tags) {
    return (tags || []).map(function (tg) { return h('span', { class: 'chip', text: tg }); });
  }

  function renderEntries() {
    var body = clear($('entries-body'));
    if (!list.loaded) return;
    if (!list.entries.length) {
      body.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: '9', text: t('noEntries') })));
    }
    list.entries.forEach(function (r) {
      var st = statusOf(r);
      var actions = h('div', { class: 'row-actions' },
        button(t('history'), { 'data-action': 'history' }));
      if (st === 'deleted') {
        actions.appendChild(button(t('restore'), { 'data-action': 'restore' }));
      } else {
        actions.appendChild(st === 'disabled'
          ? button(t('enable'), { 'data-action': 'enable' })
          : button(t('disable'), { 'data-action': 'disable' }));
        actions.appendChild(button(t('del'), { 'data-action': 'delete', class: 'btn btn-small btn-danger' }));
      }
      var qcell = h('td', { class: 'col-question' },
        h('button', { type: 'button', class: 'link', 'data-action': 'edit', text: r.question, title: t('edit') }));
      if (r.alternates && r.alternates.length) {
        qcell.appendChild(h('span', { class: 'muted small alt-count', title: r.alternates.join('\n'),
          text: ' ' + t('altCount', { n: r.alternates.length }) }));
      }
      var flags = flagsOf(r);
      if (flags.length) qcell.appendChild(h('div', { class: 'flag-badges' }, flagBadges(flags)));
      body.appendChild(h('tr', { 'data-id': r.id, 'data-status': st, 'data-version': r.version, 'data-flags': flagKinds(flags).join(' ') || null },
        h('td', { class: 'col-id mono', text: r.id }),
        qcell,
        h('td', { text: r.category || '—' }),
        h('td', { class: 'col-tags' }, tagChips(r.tags)),
        h('td', { class: 'nowrap', text: localeLabel(r.locale) }),
        h('td', null, badge(st)),
        h('td', { class: 'num', text: 'v' + r.version }),
        h('td', { class: 'col-updated' }, h('span', { class: 'who', text: r.updated_by || '—' }), h('br'), h('span', { class: 'muted small' }, timeEl(r.updated_at))),
        h('td', { class: 'col-actions' }, actions)));
    });
    var from = list.total ? list.offset + 1 : 0;
    var to = list.offset + list.entries.length;
    $('page-info').textContent = t('pageInfo', { from: from, to: to, total: list.total });
    $('entries-count').textContent = t('countEntries', { n: list.total });
    $('page-prev').disabled = list.offset <= 0;
    $('page-next').disabled = to >= list.total;
  }

  function entryByID(id) {
    for (var i = 0; i < list.entries.length; i++) if (list.entries[i].id === id) return list.entries[i];
    return null;
  }

  var searchTimer = 0;
  $('f-text').addEventListener('input', function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () { list.offset = 0; loadEntries(); }, 250);
  });
  $('filters').addEventListener('submit', function (ev) {
    ev.preventDefault();
    clearTimeout(searchTimer);
    list.offset = 0;
    loadEntries();
  });
  ['f-locale', 'f-category', 'f-tag', 'f-status'].forEach(function (id) {
    $(id).addEventListener('change', function () { list.offset = 0; loadEntries(); });
  });
  $('page-prev').addEventListener('click', function () { list.offset = Math.max(0, list.offset - list.limit); loadEntries(); });
  $('page-next').addEventListener('click', function () { list.offset += list.limit; loadEntries(); });
  $('page-size').addEventListener('change', function () {
    list.limit = parseInt($('page-size').value, 10) || 50;
    list.offset = 0;
    loadEntries();
  });
  $('btn-new').addEventListener('click', function () { openEntryForm('create', null); });

  $('entries-body').addEventListener('click', function (ev) {
    var b = ev.target.closest('button[data-action]');
    if (!b) return;
    var tr = b.closest('tr[data-id]');
    var id = tr.getAttribute('data-id');
    var rec = entryByID(id);
    var action = b.getAttribute('data-action');
    if (action === 'edit') { openEntryForm('edit', rec); return; }
    if (action === 'history') { openHistory(id); return; }
    if (action === 'delete') {
      ask(t('confirmDelete', { id: id }), t('del')).then(function (yes) {
        if (yes) entryAction(id, 'DELETE', '', 'deleted');
      });
      return;
    }
    var toasts = { disable: 'disabled', enable: 'enabled', restore: 'restored' };
    entryAction(id, 'POST', '/' + action, toasts[action]);
  });

  function entryAction(id, method, suffix, done) {
    return api(method, API + '/entries/' + enc(id) + suffix).then(function (rec) {
      savedNotice(rec || { id: id }, false);
      toast(t(done, { id: id }));
      loadEntries();
      loadFacets();
    }, function (err) {
      showError($('entries-error'), err);
    });
  }

  /* ------------------------------------------------------------------ */
  /* Entry form                                                          */
  /* ------------------------------------------------------------------ */

  // form is what the entry dialog edits: mode create, edit or gap; rec is
  // the record being edited (edit) and gap the gap it comes from (gap).
  // latest is the current record a stale-version refusal sent back.
  var form = { mode: '', rec: null, gap: null, busy: false, latest: null };

  function openEntryForm(mode, rec, gap) {
    form = { mode: mode, rec: rec, gap: gap || null, busy: false, latest: null };
    hideError($('entry-error'));
    var e = rec || {};
    $('e-id').value = e.id || '';
    $('e-id').readOnly = mode === 'edit';
    $('e-locale').value = e.locale != null ? e.locale : (lang === 'zh' ? 'zh-CN' : 'en');
    $('e-question').value = e.question || '';
    $('e-alternates').value = (e.alternates || []).join('\n');
    $('e-answer').value = e.answer || '';
    $('e-category').value = e.category || '';
    $('e-tags').value = (e.tags || []).join(', ');
    $('e-disabled').checked = !!e.disabled;
    if (gap) {
      $('e-question').value = gap.example || gap.text || '';
      $('e-locale').value = gap.locale || 'zh-CN';
    }
    $('entry-dialog').setAttribute('data-mode', mode);
    renderEntryTitle();
    openDialog($('entry-dialog'));
    (mode === 'edit' ? $('e-question') : mode === 'gap' ? $('e-id') : $('e-id')).focus();
  }

  function renderEntryTitle() {
    var title = form.mode === 'edit' ? t('entryEdit', { id: form.rec.id })
      : form.mode === 'gap' ? t('entryFromGap') : t('entryCreate');
    $('entry-title').textContent = title;
    $('entry-meta').textContent = form.mode === 'edit'
      ? t('entryMeta', { v: form.rec.version, by: form.rec.updated_by || '—', at: fmtTime(form.rec.updated_at) }) : '';
    renderEntryFlags();
  }

  // FLAG_INPUTS are the form fields a flag's field is in.
  var FLAG_INPUTS = { question: 'e-question', alternates: 'e-alternates', answer: 'e-answer', category: 'e-category', tags: 'e-tags' };

  // renderEntryFlags shows what the safe-content check found in the entry
  // being edited, and marks the fields it is in.
  function renderEntryFlags() {
    var box = clear($('entry-flags'));
    var flags = form.mode === 'edit' ? flagsOf(form.rec) : [];
    Object.keys(FLAG_INPUTS).forEach(function (k) { $(FLAG_INPUTS[k]).classList.remove('flagged'); });
    flags.forEach(function (f) {
      var id = FLAG_INPUTS[String(f.field || '').replace(/\[\d+\]$/, '')];
      if (id) $(id).classList.add('flagged');
    });
    box.setAttribute('data-kinds', flagKinds(flags).join(' '));
    if (!flags.length) { box.hidden = true; return; }
    box.appendChild(h('p', { class: 'notice-title', text: t('entryFlags') }));
    box.appendChild(flagList(flags));
    box.hidden = false;
  }

  function lines(s) {
    return s.split(/\r?\n/).map(function (x) { return x.trim(); }).filter(Boolean);
  }

  function readEntryForm() {
    return {
      id: $('e-id').value.trim(),
      locale: $('e-locale').value,
      question: $('e-question').value.trim(),
      alternates: lines($('e-alternates').value),
      answer: $('e-answer').value.trim(),
      category: $('e-category').value.trim(),
      tags: $('e-tags').value.split(/[,，、;；]/).map(function (x) { return x.trim(); }).filter(Boolean),
      disabled: $('e-disabled').checked
    };
  }

  function submitEntry() {
    if (form.busy) return;
    var e = readEntryForm();
    var box = $('entry-error');
    var missing = !e.id ? ['needId', 'e-id'] : !e.question ? ['needQuestion', 'e-question'] : !e.answer ? ['needAnswer', 'e-answer'] : null;
    if (missing) {
      showError(box, t(missing[0]));
      $(missing[1]).focus();
      return;
    }
    var req;
    if (form.mode === 'edit') {
      e.version = form.rec.version;
      req = api('PUT', API + '/entries/' + enc(form.rec.id), e);
    } else if (form.mode === 'gap') {
      // From a gap an empty locale means the gap's: both languages is "any".
      if (!e.locale) e.locale = 'any';
      req = api('POST', API + '/gaps/' + enc(form.gap.id) + '/entry', e);
    } else {
      req = api('POST', API + '/entries', e);
    }
    form.busy = true;
    var btn = $('entry-save');
    btn.disabled = true;
    btn.textContent = t('saving');
    var mode = form.mode;
    req.then(function (rec) {
      closeDialog($('entry-dialog'));
      savedNotice(rec, true);
      toast(t(mode === 'edit' ? 'saved' : 'created', { id: rec.id }));
      loadFacets();
      if (mode === 'gap') loadGaps();
      if (current === 'entries') loadEntries();
    }, function (err) {
      if (err.status === 409 && err.code === 'conflict' && mode === 'edit') {
        // The refusal carries the current record: say who changed it and
        // when, and load it from there.
        var cur = err.body.current && typeof err.body.current === 'object' && err.body.current.id === form.rec.id ? err.body.current : null;
        form.latest = cur;
        var reload = button(t('reloadEntry'), { id: 'entry-reload', class: 'btn btn-small' });
        reload.addEventListener('click', reloadEntryForm);
        showError(box, cur ? t('conflictEditBy', { by: cur.updated_by || '—', at: fmtTime(cur.updated_at), v: cur.version }) : t('conflictEdit'),
          h('p', null, reload));
        box.setAttribute('data-code', 'conflict');
        reload.focus();
      } else if (err.status === 409 && err.code === 'id_taken') {
        showError(box, t('conflictCreate', { id: e.id }));
        box.setAttribute('data-code', 'id_taken');
        $('e-id').focus();
      } else {
        showError(box, err);
      }
    }).then(function () {
      form.busy = false;
      btn.disabled = false;
      btn.textContent = t('save');
    });
  }

  function reloadEntryForm() {
    if (form.latest) { openEntryForm('edit', form.latest); return; }
    var id = form.rec.id;
    api('GET', API + '/entries/' + enc(id)).then(function (rec) {
      openEntryForm('edit', rec);
    }, function (err) { showError($('entry-error'), err); });
  }

  $('entry-form').addEventListener('submit', function (ev) { ev.preventDefault(); submitEntry(); });
  $('entry-form').addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); submitEntry(); }
  });
  $('entry-cancel').addEventListener('click', function () { closeDialog($('entry-dialog')); });

  /* ------------------------------------------------------------------ */
  /* History                                                             */
  /* ------------------------------------------------------------------ */

  var hist = { id: '', versions: [] };

  function openHistory(id) {
    hist = { id: id, versions: [] };
    if (saved) saved.history = false;
    renderSavedNotice();
    hideError($('history-error'));
    renderHistory();
    openDialog($('history-dialog'));
    $('history-close').focus();
    loadHistory();
  }

  function loadHistory() {
    var id = hist.id;
    return api('GET', API + '/entries/' + enc(id) + '/versions').then(function (data) {
      if (hist.id !== id) return;
      hist.versions = data.versions || [];
      renderHistory();
    }, function (err) { showError($('history-error'), err); });
  }

  var ACTIONS = { create: 'actCreate', update: 'actUpdate', disable: 'actDisable', enable: 'actEnable', delete: 'actDelete',
    restore: 'actRestore', rollback: 'actRollback', import: 'actImport' };
  var FIELDS = { question: 'fieldQuestion', alternates: 'fieldAlternates', answer: 'fieldAnswer', category: 'fieldCategory',
    tags: 'fieldTags', locale: 'fieldLocale', disabled: 'fieldDisabled' };

  function renderHistory() {
    $('history-title').textContent = t('historyTitle', { id: hist.id });
    var ol = clear($('history-list'));
    hist.versions.forEach(function (v, i) {
      var head = h('div', { class: 'version-head' },
        h('span', { class: 'vnum', text: 'v' + v.version }),
        h('span', { class: 'action action-' + v.action, text: ACTIONS[v.action] ? t(ACTIONS[v.action]) : v.action }),
        v.action === 'rollback' && v.from ? h('span', { class: 'muted', text: t('fromVersion', { v: v.from }) }) : null,
        i === 0 ? h('span', { class: 'badge badge-current', text: t('current') }) : null,
        v.deleted ? badge('deleted') : null,
        h('span', { class: 'grow' }),
        h('span', { class: 'who', text: v.by || '—' }),
        h('span', { class: 'muted' }, timeEl(v.at)));
      if (i > 0) head.appendChild(button(t('rollback'), { 'data-action': 'rollback', 'data-version': v.version }));
      // The first version has nothing before it: show what it held.
      var first = i === hist.versions.length - 1 && v.version === 1;
      var changes = h('div', { class: 'changes' });
      if (first) {
        changes.appendChild(entryContent(v.entry || {}));
      } else if (!v.changes || !v.changes.length) {
        changes.appendChild(h('p', { class: 'muted small', text: t('noChanges') }));
      }
      if (!first) (v.changes || []).forEach(function (c) { changes.appendChild(renderChange(c)); });
      var content = first ? null : h('details', { class: 'version-content' }, h('summary', { text: t('showContent') }), entryContent(v.entry || {}));
      ol.appendChild(h('li', { class: 'version', 'data-version': v.version, 'data-action': v.action }, head, changes, content));
    });
  }

  function renderChange(c) {
    var label = FIELDS[c.field] ? t(FIELDS[c.field]) : c.field;
    var body = h('div', { class: 'change-body' });
    if (c.ops && c.ops.length) {
      body.classList.add('ops');
      c.ops.forEach(function (op) {
        if (op.op === '+') body.appendChild(h('ins', { class: 'op-ins', text: op.text }));
        else if (op.op === '-') body.appendChild(h('del', { class: 'op-del', text: op.text }));
        else body.appendChild(h('span', { class: 'op-eq', text: op.text }));
      });
    } else if ((c.removed && c.removed.length) || (c.added && c.added.length)) {
      var ul = h('ul', { class: 'list-diff' });
      (c.removed || []).forEach(function (x) { ul.appendChild(h('li', { class: 'removed' }, h('del', { class: 'op-del', text: x }))); });
      (c.added || []).forEach(function (x) { ul.appendChild(h('li', { class: 'added' }, h('ins', { class: 'op-ins', text: x }))); });
      body.appendChild(ul);
    } else if (c.field === 'alternates' || c.field === 'tags') {
      body.appendChild(h('span', { class: 'muted', text: t('orderChanged') }));
    } else {
      var show = function (x) {
        if (c.field === 'locale') return localeLabel(x || '');
        if (c.field === 'disabled') return x === 'true' ? t('yes') : t('no');
        return x || t('none');
      };
      body.appendChild(h('del', { class: 'op-del', text: show(c.old) }));
      body.appendChild(h('span', { class: 'arrow', text: ' → ' }));
      body.appendChild(h('ins', { class: 'op-ins', text: show(c.new) }));
    }
    return h('div', { class: 'change', 'data-field': c.field }, h('div', { class: 'change-field', text: label }), body);
  }

  function entryContent(e) {
    var dl = h('dl', { class: 'entry-content' });
    var row = function (k, v) { dl.appendChild(h('dt', { text: t(k) })); dl.appendChild(h('dd', null, v)); };
    row('fieldQuestion', e.question || '');
    row('fieldAlternates', (e.alternates || []).length ? h('ul', null, e.alternates.map(function (a) { return h('li', { text: a }); })) : '—');
    row('fieldAnswer', h('div', { class: 'pre', text: e.answer || '' }));
    row('fieldCategory', e.category || '—');
    row('fieldTags', (e.tags || []).length ? tagChips(e.tags) : '—');
    row('fieldLocale', localeLabel(e.locale || ''));
    row('fieldDisabled', e.disabled ? t('yes') : t('no'));
    return dl;
  }

  $('history-list').addEventListener('click', function (ev) {
    var b = ev.target.closest('button[data-action="rollback"]');
    if (!b) return;
    var v = parseInt(b.getAttribute('data-version'), 10);
    var id = hist.id;
    ask(t('confirmRollback', { id: id, v: v }), t('rollback')).then(function (yes) {
      if (!yes) return;
      api('POST', API + '/entries/' + enc(id) + '/rollback', { version: v }).then(function (rec) {
        savedNotice(rec, true, true);
        toast(t('rolledBack', { id: id, v: v }));
        loadHistory();
        if (current === 'entries') loadEntries();
      }, function (err) { showError($('history-error'), err); });
    });
  });
  $('history-close').addEventListener('click', function () { closeDialog($('history-dialog')); });

  /* ------------------------------------------------------------------ */
  /* Try a question                                                      */
  /* ------------------------------------------------------------------ */

  var tryState = { query: '', locale: '', result: null, saved: {} };

  $('try-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var text = $('try-q').value.trim();
    if (!text) { $('try-q').focus(); return; }
    var params = { q: text, locale: $('try-locale').value, category: $('try-category').value, tag: $('try-tag').value, limit: 10 };
    var btn = $('try-go');
    btn.disabled = true;
    api('GET', API + '/try' + q(params)).then(function (res) {
      tryState = { query: text, locale: params.locale, result: res, saved: {} };
      hideError($('try-error'));
      renderTry();
    }, function (err) {
      showError($('try-error'), err);
    }).then(function () { btn.disabled = false; });
  });

  function renderTry() {
    var box = clear($('try-result'));
    var res = tryState.result;
    if (!res) return;
    box.setAttribute('data-q', tryState.query);
    var hits = res.hits || [];
    var top = hits[0];
    var verdict = h('div', { class: 'verdict ' + (res.answerable ? 'verdict-yes' : 'verdict-no'), id: 'try-verdict',
      'data-answerable': String(!!res.answerable) },
      h('strong', { text: res.answerable ? t('wouldAnswer') : t('wouldDecline') }),
      h('span', { class: 'muted', text: top
        ? t('verdictDetail', { c: num2(top.confidence), t: num2(res.threshold) })
        : t('verdictNoHits', { t: num2(res.threshold) }) }));
    if (!res.answerable) {
      var key = '\u0000decline';
      verdict.appendChild(h('span', { class: 'grow' }));
      verdict.appendChild(tryState.saved[key]
        ? h('span', { class: 'saved', text: t('caseSaved') })
        : button(t('saveDeclineCase'), { 'data-action': 'save-case', 'data-expected': '', id: 'try-save-decline' }));
    }
    box.appendChild(verdict);
    // The server may not report matched words (docs/admin-api.md): say so
    // once rather than on every hit.
    var anyMatched = hits.some(function (x) { return Array.isArray(x.matched) && x.matched.length; });
    if (hits.length && !anyMatched) box.appendChild(h('p', { class: 'muted small no-match', text: t('noMatchInfo') }));
    if (!hits.length) {
      box.appendChild(h('p', { class: 'muted', text: t('noHits') }));
      return;
    }
    var ol = h('ol', { class: 'hits', id: 'try-hits' });
    hits.forEach(function (hit, i) {
      var matched = Array.isArray(hit.matched) ? hit.matched : [];
      var meta = h('div', { class: 'hit-meta' },
        h('span', { class: 'mono', text: hit.id }),
        hit.category ? h('span', { class: 'chip', text: hit.category }) : null,
        tagChips(hit.tags),
        h('span', { class: 'muted', text: localeLabel(hit.locale) }),
        hit.disabled ? badge('disabled') : null);
      var phr = hit.phrasing && hit.phrasing !== hit.question
        ? h('p', { class: 'hit-phrasing' }, h('span', { class: 'muted small', text: t('matchedPhrasing') + ': ' }),
          h('span', { class: 'phrasing' }, highlight(hit.phrasing, matched)))
        : null;
      var words = anyMatched ? h('p', { class: 'hit-words small' }, h('span', { class: 'muted', text: t('matchedWords') + ': ' }),
        matched.length ? matched.map(function (w) { return h('span', { class: 'chip chip-match', text: w }); })
          : h('span', { class: 'muted', text: '—' })) : null;
      var answer = h('p', { class: 'hit-answer muted small', text: (hit.answer || '').slice(0, 220) + ((hit.answer || '').length > 220 ? '…' : '') });
      var saveKey = hit.id;
      var save = tryState.saved[saveKey]
        ? h('span', { class: 'saved', text: t('caseSaved') })
        : button(t('saveCase'), { 'data-action': 'save-case', 'data-expected': hit.id });
      ol.appendChild(h('li', { class: 'hit' + (i === 0 && res.answerable ? ' hit-answer-top' : ''), 'data-id': hit.id, 'data-rank': i + 1 },
        h('div', { class: 'hit-rank', text: String(i + 1) }),
        h('div', { class: 'hit-main' },
          h('p', { class: 'hit-question' }, highlight(hit.question, matched)),
          phr, meta, words, answer),
        h('div', { class: 'hit-side' },
          confBar(hit.confidence, res.threshold),
          h('span', { class: 'muted small', text: t('score') + ' ' + num2(hit.score) }),
          // Present only when the server uses embeddings.
          typeof hit.similarity === 'number' && hit.similarity > 0
            ? h('span', { class: 'muted small', text: t('similarity') + ' ' + num2(hit.similarity) }) : null,
          save)));
    });
    box.appendChild(ol);
  }

  $('try-result').addEventListener('click', function (ev) {
    var b = ev.target.closest('button[data-action="save-case"]');
    if (!b) return;
    var expected = b.getAttribute('data-expected') || '';
    b.disabled = true;
    api('POST', API + '/regression', { query: tryState.query, expected_id: expected, locale: tryState.locale, note: '' }).then(function () {
      tryState.saved[expected || '\u0000decline'] = true;
      toast(t('caseSaved'));
      renderTry();
    }, function (err) {
      b.disabled = false;
      showError($('try-error'), err);
    });
  });

  /* ------------------------------------------------------------------ */
  /* Regression set                                                      */
  /* ------------------------------------------------------------------ */

  var rg = { cases: [], loaded: false, report: null };

  function loadCases() {
    return api('GET', API + '/regression').then(function (data) {
      rg.cases = data.cases || [];
      rg.loaded = true;
      hideError($('rg-error'));
      renderCases();
    }, function (err) { showError($('rg-error'), err); });
  }

  function renderCases() {
    var body = clear($('rg-body'));
    $('rg-count').textContent = rg.loaded ? t('countCases', { n: rg.cases.length }) : '';
    var results = {};
    if (rg.report) (rg.report.results || []).forEach(function (r) { results[r.case.id] = r; });
    if (rg.loaded && !rg.cases.length) {
      body.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: '7', text: t('rgNoCases') })));
    }
    rg.cases.forEach(function (c) {
      var r = results[c.id];
      var result = h('td', { class: 'col-result', 'data-pass': r ? String(!!r.pass) : null });
      if (r) {
        result.appendChild(h('span', { class: 'badge ' + (r.pass ? 'badge-pass' : 'badge-fail'), text: r.pass ? t('rgPass') : t('rgFail') }));
        result.appendChild(h('span', { class: 'muted small', text: ' ' + gotText(r) }));
      }
      body.appendChild(h('tr', { 'data-case-id': c.id },
        h('td', { class: 'col-question', text: c.query }),
        h('td', { class: 'mono' }, c.expected_id ? c.expected_id : h('span', { class: 'badge badge-decline', text: t('mustDecline') })),
        h('td', { class: 'nowrap', text: c.locale ? localeLabel(c.locale) : t('any') }),
        h('td', { text: c.note || '' }),
        h('td', { class: 'col-updated' }, h('span', { class: 'who', text: c.created_by || '—' }), h('br'), h('span', { class: 'muted small' }, timeEl(c.created_at))),
        result,
        h('td', { class: 'col-actions' }, button(t('del'), { 'data-action': 'delete-case', class: 'btn btn-small btn-danger' }))));
    });
    var sum = clear($('rg-summary'));
    if (rg.report) {
      var rep = rg.report;
      sum.appendChild(h('div', { class: 'summary ' + (rep.passed === rep.cases ? 'summary-ok' : 'summary-bad'), id: 'rg-summary-line',
        'data-passed': rep.passed, 'data-cases': rep.cases, 'data-hit1': rep.hit1, 'data-oos': rep.oos_declined },
        h('strong', { text: t('rgSummary', { p: rep.passed, n: rep.cases, h: pct(rep.hit1), o: pct(rep.oos_declined) }) })));
    }
  }

  // gotText says what the bot did with a case: the top hit, and whether it
  // would decline (a top hit below the threshold is not an answer).
  function gotText(r) {
    if (!r.got_id) return t('rgGotNone');
    var s = t('rgGot', { id: r.got_id, c: num2(r.confidence) });
    return r.answerable ? s : s + ' · ' + t('rgDeclined');
  }

  $('rg-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var c = { query: $('rg-query').value.trim(), expected_id: $('rg-expected').value.trim(), locale: $('rg-locale').value, note: $('rg-note').value.trim() };
    if (!c.query) { $('rg-query').focus(); return; }
    api('POST', API + '/regression', c).then(function () {
      $('rg-query').value = '';
      $('rg-expected').value = '';
      $('rg-note').value = '';
      toast(t('caseAdded'));
      rg.report = null;
      loadCases();
      $('rg-query').focus();
    }, function (err) { showError($('rg-error'), err); });
  });

  $('rg-run').addEventListener('click', function () {
    var btn = $('rg-run');
    btn.disabled = true;
    btn.textContent = t('rgRunning');
    api('POST', API + '/regression/run').then(function (rep) {
      rg.report = rep;
      hideError($('rg-error'));
      return loadCases();
    }, function (err) { showError($('rg-error'), err); }).then(function () {
      btn.disabled = false;
      btn.textContent = t('rgRun');
    });
  });

  $('rg-body').addEventListener('click', function (ev) {
    var b = ev.target.closest('button[data-action="delete-case"]');
    if (!b) return;
    var id = b.closest('tr[data-case-id]').getAttribute('data-case-id');
    ask(t('confirmDeleteCase'), t('del')).then(function (yes) {
      if (!yes) return;
      api('DELETE', API + '/regression/' + enc(id)).then(function () {
        toast(t('caseDeleted'));
        loadCases();
      }, function (err) { showError($('rg-error'), err); });
    });
  });

  /* ------------------------------------------------------------------ */
  /* Gaps                                                                */
  /* ------------------------------------------------------------------ */

  var gaps = { list: [], loaded: false, seq: 0 };

  function loadGaps() {
    var my = ++gaps.seq;
    return api('GET', API + '/gaps' + q({ status: $('gap-status').value, locale: $('gap-locale').value, limit: 100 })).then(function (data) {
      if (my !== gaps.seq) return;
      gaps.list = data.gaps || [];
      gaps.loaded = true;
      hideError($('gaps-error'));
      renderGaps();
    }, function (err) {
      if (my === gaps.seq) showError($('gaps-error'), err);
    });
  }

  function gapByID(id) {
    for (var i = 0; i < gaps.list.length; i++) if (String(gaps.list[i].id) === String(id)) return gaps.list[i];
    return null;
  }

  function renderGaps() {
    var body = clear($('gaps-body'));
    $('gaps-count').textContent = gaps.loaded ? t('countGaps', { n: gaps.list.length }) : '';
    if (gaps.loaded && !gaps.list.length) {
      body.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: '6', text: t('noGaps') })));
    }
    gaps.list.forEach(function (g) {
      var reasons = h('div', { class: 'reasons' });
      if (g.unanswered) reasons.appendChild(h('span', { class: 'chip chip-unanswered', text: t('reasonUnanswered', { n: g.unanswered }) }));
      if (g.thumbs_down) reasons.appendChild(h('span', { class: 'chip chip-thumbs', text: t('reasonThumbsDown', { n: g.thumbs_down }) }));
      if (g.handoff) reasons.appendChild(h('span', { class: 'chip chip-handoff', text: t('reasonHandoff', { n: g.handoff }) }));
      var best = h('td', { class: 'col-best' });
      if (g.best_id) {
        // best_question is empty when the entry has been deleted since.
        best.appendChild(h('div', null, h('span', { class: 'mono', text: g.best_id }),
          g.best_question ? h('span', { class: 'best-q', text: ' ' + g.best_question })
            : h('span', { class: 'muted small best-gone', text: ' ' + t('gapBestGone') })));
        best.appendChild(confBar(g.best_confidence));
      } else {
        best.textContent = '—';
      }
      var actions = h('div', { class: 'row-actions' });
      if (g.status === 'open') {
        actions.appendChild(button(t('gapNewEntry'), { 'data-action': 'gap-entry' }));
        actions.appendChild(button(t('gapAddAlt'), { 'data-action': 'gap-alt', class: 'btn btn-small btn-primary' }));
        actions.appendChild(button(t('gapDismiss'), { 'data-action': 'gap-dismiss' }));
      } else {
        if (g.status === 'resolved' && g.resolved_to) {
          actions.appendChild(h('span', { class: 'muted small', text: t('gapResolvedTo', { id: g.resolved_to }) }));
        }
        if (g.resolved_by) actions.appendChild(h('span', { class: 'muted small', text: t('gapBy', { by: g.resolved_by, at: fmtTime(g.resolved_at) }) }));
        actions.appendChild(button(t('gapReopen'), { 'data-action': 'gap-reopen' }));
      }
      var statusKey = { open: 'gapOpen', resolved: 'gapResolved', dismissed: 'gapDismissed' }[g.status];
      body.appendChild(h('tr', { 'data-gap-id': g.id, 'data-status': g.status },
        h('td', { class: 'col-question' },
          h('div', { class: 'gap-example', text: g.example || g.text }),
          h('div', { class: 'muted small' }, localeLabel(g.locale), ' · ', statusKey ? t(statusKey) : g.status)),
        h('td', { class: 'num', text: String(g.count) }),
        h('td', null, reasons),
        h('td', { class: 'nowrap' }, timeEl(g.last_seen)),
        best,
        h('td', { class: 'col-actions' }, actions)));
    });
  }

  $('gap-status').addEventListener('change', loadGaps);
  $('gap-locale').addEventListener('change', loadGaps);
  $('gap-refresh').addEventListener('click', loadGaps);
  $('gap-filters').addEventListener('submit', function (ev) { ev.preventDefault(); loadGaps(); });

  $('gaps-body').addEventListener('click', function (ev) {
    var b = ev.target.closest('button[data-action]');
    if (!b) return;
    var g = gapByID(b.closest('tr[data-gap-id]').getAttribute('data-gap-id'));
    if (!g) return;
    var action = b.getAttribute('data-action');
    if (action === 'gap-entry') {
      openEntryForm('gap', null, g);
    } else if (action === 'gap-alt') {
      openAlt(g);
    } else if (action === 'gap-dismiss') {
      ask(t('confirmDismiss'), t('gapDismiss')).then(function (yes) {
        if (yes) gapStatus(g, 'dismiss', 'gapDismissedToast');
      });
    } else if (action === 'gap-reopen') {
      gapStatus(g, 'reopen', 'gapReopenedToast');
    }
  });

  function gapStatus(g, what, done) {
    api('POST', API + '/gaps/' + enc(g.id) + '/' + what).then(function () {
      toast(t(done));
      loadGaps();
    }, function (err) { showError($('gaps-error'), err); });
  }

  /* Add a gap's wording as another phrasing of an entry. */

  var alt = { gap: null, candidates: [], picked: '', seq: 0 };

  function openAlt(g) {
    alt = { gap: g, candidates: [], picked: g.best_id || '', seq: alt.seq + 1 };
    hideError($('alt-error'));
    $('alt-phrasing').value = g.example || g.text || '';
    $('alt-search').value = '';
    // The best candidate, unless it has been deleted since (no best_question).
    if (g.best_id && g.best_question) {
      alt.candidates = [{ id: g.best_id, question: g.best_question, confidence: g.best_confidence, best: true }];
    } else {
      alt.picked = '';
    }
    renderAltCandidates();
    openDialog($('alt-dialog'));
    var first = $('alt-candidates').querySelector('input:checked') || $('alt-search');
    first.focus();
    // Suggest the entries the bot ranks highest for the wording.
    var my = alt.seq;
    api('GET', API + '/try' + q({ q: $('alt-phrasing').value, locale: g.locale || '', limit: 5 })).then(function (res) {
      if (my !== alt.seq || $('alt-search').value.trim()) return;
      var seen = {};
      var out = alt.candidates.slice();
      out.forEach(function (c) { seen[c.id] = true; });
      (res.hits || []).forEach(function (hit) {
        if (seen[hit.id]) {
          out.forEach(function (c) { if (c.id === hit.id && !c.question) c.question = hit.question; });
          return;
        }
        seen[hit.id] = true;
        out.push({ id: hit.id, question: hit.question, confidence: hit.confidence });
      });
      alt.candidates = out;
      if (!alt.picked && out.length) alt.picked = out[0].id;
      renderAltCandidates();
    }, function () { /* the search box still works */ });
  }

  function renderAltCandidates() {
    var box = clear($('alt-candidates'));
    if (!alt.candidates.length) {
      box.appendChild(h('p', { class: 'muted small', text: t('altNone') }));
      return;
    }
    alt.candidates.forEach(function (c) {
      var input = h('input', { type: 'radio', name: 'alt-target', value: c.id });
      input.checked = c.id === alt.picked;
      box.appendChild(h('label', { class: 'candidate', 'data-id': c.id },
        input,
        h('span', { class: 'candidate-text' },
          h('span', { class: 'mono', text: c.id }),
          c.best ? h('span', { class: 'badge badge-best', text: t('altBest') }) : null,
          h('span', { class: 'candidate-q', text: c.question || '' })),
        c.confidence != null ? confBar(c.confidence) : null));
    });
  }

  $('alt-candidates').addEventListener('change', function (ev) {
    if (ev.target.name === 'alt-target') alt.picked = ev.target.value;
  });

  var altTimer = 0;
  $('alt-search').addEventListener('input', function () {
    clearTimeout(altTimer);
    altTimer = setTimeout(altSearch, 250);
  });
  $('alt-search').addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter') { ev.preventDefault(); clearTimeout(altTimer); altSearch(); }
  });

  function altSearch() {
    var text = $('alt-search').value.trim();
    if (!text) return;
    var my = ++alt.seq;
    api('GET', API + '/entries' + q({ text: text, status: 'active', limit: 10 })).then(function (data) {
      if (my !== alt.seq) return;
      alt.candidates = (data.entries || []).map(function (r) { return { id: r.id, question: r.question }; });
      var still = alt.candidates.some(function (c) { return c.id === alt.picked; });
      if (!still) alt.picked = alt.candidates.length ? alt.candidates[0].id : '';
      renderAltCandidates();
    }, function (err) { showError($('alt-error'), err); });
  }

  $('alt-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var picked = $('alt-candidates').querySelector('input[name="alt-target"]:checked');
    if (!picked) { showError($('alt-error'), t('altPick')); return; }
    var g = alt.gap;
    var id = picked.value;
    var btn = $('alt-save');
    btn.disabled = true;
    api('POST', API + '/gaps/' + enc(g.id) + '/alternate', { entry_id: id, phrasing: $('alt-phrasing').value.trim() }).then(function (rec) {
      closeDialog($('alt-dialog'));
      savedNotice(rec, true);
      toast(t('altAdded', { id: id }));
      loadGaps();
    }, function (err) { showError($('alt-error'), err); }).then(function () { btn.disabled = false; });
  });
  $('alt-cancel').addEventListener('click', function () { closeDialog($('alt-dialog')); });

  /* ------------------------------------------------------------------ */
  /* Synonyms                                                            */
  /* ------------------------------------------------------------------ */

  var syn = { data: null };
  var SYN_LOCALES = ['zh-CN', 'en'];

  function loadSynonyms() {
    return api('GET', API + '/synonyms').then(function (data) {
      syn.data = data || { groups: [] };
      hideError($('syn-error'));
      renderSynonyms();
    }, function (err) {
      syn.data = null;
      renderSynonyms();
      showError($('syn-error'), err);
    });
  }

  function renderSynonyms() {
    var box = clear($('syn-areas'));
    var groups = (syn.data && syn.data.groups) || [];
    var locales = SYN_LOCALES.slice();
    groups.forEach(function (g) { if (locales.indexOf(g.locale || '') < 0) locales.push(g.locale || ''); });
    locales.forEach(function (l) {
      var text = groups.filter(function (g) { return (g.locale || '') === l; })
        .map(function (g) { return (g.terms || []).join(' = '); }).join('\n');
      var ta = h('textarea', { id: 'syn-' + (l || 'any'), 'data-locale': l, rows: '20', spellcheck: 'false' });
      ta.value = text;
      ta.disabled = !syn.data;
      box.appendChild(h('label', { class: 'field' }, h('span', { class: 'syn-label', 'data-locale': l }, t('synLocale', { l: localeLabel(l) })), ta));
    });
    show($('syn-form'), !!syn.data);
    renderSynonymNote();
  }

  function renderSynonymNote() {
    var note = $('syn-note');
    var labels = document.querySelectorAll('.syn-label');
    for (var i = 0; i < labels.length; i++) labels[i].textContent = t('synLocale', { l: localeLabel(labels[i].getAttribute('data-locale')) });
    if (!syn.data) { note.textContent = ''; note.hidden = true; return; }
    note.hidden = false;
    note.setAttribute('data-default', String(!!syn.data.default));
    note.textContent = syn.data.default ? t('synDefault')
      : t('synUpdated', { by: syn.data.updated_by || '—', at: fmtTime(syn.data.updated_at) });
  }

  $('syn-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var groups = [];
    var where = []; // where[i] is the box and line of groups[i]
    var bad = [];
    var areas = $('syn-areas').querySelectorAll('textarea[data-locale]');
    for (var i = 0; i < areas.length; i++) {
      var l = areas[i].getAttribute('data-locale');
      areas[i].value.split(/\r?\n/).forEach(function (line, n) {
        var s = line.trim();
        if (!s || s.charAt(0) === '#') return;
        var terms = s.split(/[=＝]/).map(function (x) { return x.trim(); }).filter(Boolean);
        if (terms.length < 2) { bad.push(t('synLineProblem', { l: localeLabel(l), n: n + 1 })); return; }
        groups.push({ locale: l, terms: terms });
        where.push(t('synWhere', { l: localeLabel(l), n: n + 1 }));
      });
    }
    if (bad.length) {
      showError($('syn-error'), t('errInvalid'), h('ul', { class: 'problems' }, bad.map(function (b) { return h('li', { text: b }); })));
      return;
    }
    api('PUT', API + '/synonyms', { groups: groups }).then(function () {
      toast(t('synSaved'));
      loadSynonyms();
    }, function (err) {
      // A problem's item is the 1-based position of the group in the list
      // sent: name the box and line instead.
      err.problems = err.problems.map(function (p) {
        var w = p.item ? where[p.item - 1] : null;
        return w ? { where: w, item: p.item, message: p.message } : p;
      });
      showError($('syn-error'), err);
    });
  });
  $('syn-reset').addEventListener('click', loadSynonyms);

  /* ------------------------------------------------------------------ */
  /* Import and export                                                   */
  /* ------------------------------------------------------------------ */

  var imp = { result: null, error: null };
  var FORMATS = { csv: ['csv', 'text/csv; charset=utf-8'], json: ['json', 'application/json'],
    md: ['md', 'text/markdown; charset=utf-8'], markdown: ['md', 'text/markdown; charset=utf-8'] };

  function importFile() {
    var f = $('imp-file').files && $('imp-file').files[0];
    if (!f) return { err: t('impNoFile') };
    var m = /\.([^.]+)$/.exec(f.name);
    var ext = m ? m[1].toLowerCase() : '';
    if (!FORMATS[ext]) return { err: t('impBadExt', { ext: ext ? '.' + ext : '""' }) };
    return { file: f, format: FORMATS[ext][0], type: FORMATS[ext][1] };
  }

  $('imp-file').addEventListener('change', function () {
    imp = { result: null, error: null };
    renderImport();
    var f = importFile();
    $('imp-format').textContent = f.file ? t('impFormat', { name: f.file.name, size: fmtSize(f.file.size), f: f.format.toUpperCase() }) : (f.err || '');
  });

  function runImport(dry) {
    var f = importFile();
    if (f.err) { imp = { result: null, error: f.err }; renderImport(); return; }
    var replace = $('imp-replace').checked;
    var go = function () {
      var btn = $(dry ? 'imp-check' : 'imp-run');
      $('imp-check').disabled = $('imp-run').disabled = true;
      btn.textContent = t(dry ? 'impChecking' : 'impImporting');
      var params = { format: f.format, replace: replace ? '1' : '', dry_run: dry ? '1' : '' };
      api('POST', API + '/import' + q(params), f.file, { raw: true, type: f.type }).then(function (res) {
        imp = { result: res, error: null };
        if (!dry) { loadFacets(); list.offset = 0; }
      }, function (err) {
        imp = { result: null, error: err };
      }).then(function () {
        $('imp-check').disabled = $('imp-run').disabled = false;
        $('imp-check').textContent = t('impCheck');
        $('imp-run').textContent = t('impRun');
        renderImport();
      });
    };
    if (replace && !dry) {
      ask(t('confirmReplace'), t('impRun')).then(function (yes) { if (yes) go(); });
    } else {
      go();
    }
  }

  $('imp-check').addEventListener('click', function () { runImport(true); });
  $('imp-run').addEventListener('click', function () { runImport(false); });

  function regressionLine(before, after) {
    if (!before || !after) return h('p', { class: 'muted', text: t('impNoRegression') });
    return h('p', { class: 'regression-line', id: 'imp-regression' }, t('impRegression', {
      pb: before.passed, nb: before.cases, pa: after.passed, na: after.cases,
      hb: pct(before.hit1), ha: pct(after.hit1), ob: pct(before.oos_declined), oa: pct(after.oos_declined)
    }));
  }

  // IMPORT_FLAGGED_MAX bounds the flagged entries listed after an import.
  var IMPORT_FLAGGED_MAX = 300;

  // importFlagged says which entries the import cleaned or flagged
  // (every entry's flags, removals and findings), as an expandable list.
  function importFlagged(res) {
    var flagged = (Array.isArray(res.flagged) ? res.flagged : []).filter(function (x) { return x && flagsOf(x).length; });
    if (!flagged.length) return null;
    var cleaned = flagged.filter(function (x) { return flagsOf(x).some(function (f) { return !isFinding(f); }); }).length;
    var found = flagged.filter(function (x) { return flagsOf(x).some(isFinding); }).length;
    var ul = h('ul', { class: 'flagged-entries', id: 'imp-flagged-list' });
    flagged.slice(0, IMPORT_FLAGGED_MAX).forEach(function (x) {
      var flags = flagsOf(x);
      ul.appendChild(h('li', { class: 'flagged-entry', 'data-id': x.id, 'data-kinds': flagKinds(flags).join(' ') },
        h('span', { class: 'mono flagged-id', text: x.id }), flagList(flags)));
    });
    var more = flagged.length - IMPORT_FLAGGED_MAX;
    return h('div', { class: 'notice', id: 'imp-flagged', 'data-count': flagged.length },
      h('p', { class: 'notice-title', text: t(res.dry_run ? 'impFlaggedDry' : 'impFlagged', { n: flagged.length }) }),
      h('p', { class: 'small', text: t('impFlaggedDetail', { c: cleaned, f: found }) }),
      h('details', { class: 'flagged-details' }, h('summary', { text: t('impFlaggedShow') }), ul,
        more > 0 ? h('p', { class: 'muted small', text: t('impFlaggedMore', { n: more }) }) : null));
  }

  function renderImport() {
    var open = !!document.querySelector('#imp-flagged details[open]');
    var box = clear($('imp-result'));
    var res = imp.result;
    var err = imp.error;
    if (res) {
      var counts = h('dl', { class: 'counts' });
      [['entries', 'impEntries'], ['created', 'impCreated'], ['updated', 'impUpdated'], ['unchanged', 'impUnchanged'], ['deleted', 'impDeleted']]
        .forEach(function (c) {
          counts.appendChild(h('div', { class: 'count', 'data-count': c[0] },
            h('dt', { text: t(c[1]) }), h('dd', { text: String(res[c[0]] || 0) })));
        });
      box.appendChild(h('div', { class: 'card result result-ok', id: 'imp-ok', 'data-dry-run': String(!!res.dry_run) },
        h('h2', { text: res.dry_run ? t('impDry') : t('impDone') }),
        counts,
        regressionLine(res.regression_before, res.regression_after),
        importFlagged(res)));
      var details = box.querySelector('#imp-flagged details');
      if (details && open) details.open = true;
    } else if (err && typeof err === 'string') {
      box.appendChild(h('div', { class: 'alert', role: 'alert', text: err }));
    } else if (err && err.code === 'regression') {
      var tbl = h('table', { class: 'grid' },
        h('thead', null, h('tr', null, h('th', { text: t('thQuery') }), h('th', { text: t('thExpected') }),
          h('th', { text: t('thGot') }), h('th', { class: 'num', text: t('thConfidence') }))));
      var tb = h('tbody', { id: 'imp-failures' });
      (err.body.failures || []).forEach(function (f) {
        var c = f.case || {};
        tb.appendChild(h('tr', { 'data-expected': c.expected_id || '' },
          h('td', { text: c.query || '' }),
          h('td', { class: 'mono', text: c.expected_id || t('mustDecline') }),
          h('td', { class: 'mono', text: gotText(f) }),
          h('td', { class: 'num', text: num2(f.confidence) })));
      });
      tbl.appendChild(tb);
      box.appendChild(h('div', { class: 'alert result', role: 'alert', id: 'imp-refused', 'data-code': 'regression' },
        h('p', { class: 'alert-title', text: t('impRefused') }),
        h('p', { class: 'alert-detail', text: t('serverSays') + err.message }),
        regressionLine(err.body.before, err.body.after),
        h('p', { text: t('impFailures') }),
        h('div', { class: 'table-wrap' }, tbl)));
    } else if (err) {
      var a = h('div', { class: 'alert result', role: 'alert', id: 'imp-error' });
      if (err.code === 'invalid' && err.problems.length) {
        a.appendChild(h('p', { class: 'alert-title', text: t('impProblems', { n: err.problems.length }) }));
        var ul = h('ul', { class: 'problems', id: 'imp-problems' });
        err.problems.forEach(function (p) { ul.appendChild(h('li', { 'data-line': p.line || null, 'data-item': p.item || null, text: problemLine(p) })); });
        a.appendChild(ul);
        a.setAttribute('data-code', 'invalid');
      } else {
        showError(a, err);
      }
      box.appendChild(a);
    }
  }

  /* ------------------------------------------------------------------ */
  /* Start                                                               */
  /* ------------------------------------------------------------------ */

  applyLang();
  document.body.classList.remove('booting');
  boot();
})();
