/**
 * Every string the subject-facing pages show, in English and Simplified
 * Chinese. The `Messages` type makes a missing translation a compile error.
 * Category and purpose titles come from the registries (data), not from here.
 */
export type Lang = 'en' | 'zh-CN';
export const LANGS: readonly Lang[] = ['en', 'zh-CN'];

export interface Messages {
  languageName: string;
  switchLanguage: string;
  signIn: string;
  signOut: string;
  myData: string;
  notFoundTitle: string;
  notFoundBody: string;
  badFormTitle: string;
  badFormBody: string;
  unavailableTitle: string;
  unavailableBody: string;
  formatDate: (d: Date) => string;

  signInTitle: string;
  signInIntro: string;
  signInWithIssuer: (name: string) => string;
  tokenLegend: string;
  tokenLabel: string;
  tokenHelp: string;
  tokenSubmit: string;
  tokenInvalid: string;
  oidcFailed: string;
  noSignInMethod: string;

  consentTitle: (partner: string) => string;
  consentIntro: (partner: string) => string;
  aboutPartner: string;
  partnerName: string;
  industry: string;
  industryName: (code: string) => string;
  contact: string;
  contactNone: string;
  purpose: string;
  categoriesLegend: string;
  categoriesHelp: string;
  duration: string;
  durationValue: (days: number) => string;
  requestExpires: (date: string) => string;
  withdrawLater: string;
  withdrawLaterLink: string;
  approve: string;
  decline: string;
  selectAtLeastOne: string;
  requestStatus: Record<'APPROVED' | 'DECLINED' | 'EXPIRED', string>;
  resultTitle: string;
  resultApproved: (partner: string) => string;
  resultDeclined: (partner: string) => string;

  meTitle: string;
  signedInAs: (sub: string) => string;
  activeConsents: string;
  pastConsents: string;
  noActiveConsents: string;
  noPastConsents: string;
  pendingRequests: string;
  pendingIntro: string;
  lapses: string;
  reviewRequest: (partner: string) => string;
  review: string;
  partner: string;
  categories: string;
  granted: string;
  expires: string;
  ended: string;
  status: string;
  consentStatus: Record<'ACTIVE' | 'REVOKED' | 'EXPIRED', string>;
  receipt: string;
  viewReceipt: string;
  revoke: string;
  revokeFor: (partner: string, purpose: string) => string;
  accessLogTitle: string;
  accessLogIntro: string;
  accessLogEmpty: string;
  when: string;
  released: string;
  denied: string;
  nothing: string;
  olderEntries: string;
  newestEntries: string;
  revokedNotice: (partner: string) => string;

  revokeTitle: string;
  revokeConsequence: (partner: string, categories: string, purpose: string) => string;
  revokeKeeps: string;
  confirmRevoke: string;
  cancel: string;

  receiptTitle: string;
  receiptIntro: string;
  receiptValid: string;
  receiptDownload: string;
  receiptSignedBy: (kid: string) => string;
  consentId: string;

  recordTitle: string;
  recordIntro: string;
  downloadJson: string;
  downloadCsv: string;
  eraseLink: string;
  eraseTitle: string;
  eraseWillDo: string[];
  eraseConfirmHelp: string;
  confirmErase: string;
  erasedNotice: string;
  eraseNothing: string;
}

const INDUSTRIES_EN: Record<string, string> = {
  car_rental: 'Car rental',
  hotel: 'Hotel',
  lender: 'Lending',
  landlord: 'Renting homes',
  dating: 'Dating',
  dating_site: 'Dating',
  insurer: 'Insurance',
  bank: 'Banking',
};
const INDUSTRIES_ZH: Record<string, string> = {
  car_rental: '汽车租赁',
  hotel: '酒店',
  lender: '借贷',
  landlord: '房屋租赁',
  dating: '婚恋交友',
  dating_site: '婚恋交友',
  insurer: '保险',
  bank: '银行',
};

const dateFormat = (locale: string, suffix: string) => {
  const f = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });
  return (d: Date) => `${f.format(d)} ${suffix}`;
};

const en: Messages = {
  languageName: 'English',
  switchLanguage: 'Language',
  signIn: 'Sign in',
  signOut: 'Sign out',
  myData: 'My data',
  notFoundTitle: 'Not found',
  notFoundBody: 'There is no such page, or it is not addressed to you. Check the link you were given.',
  badFormTitle: 'The form has expired',
  badFormBody: 'For your safety this form could not be accepted. Go back, reload the page and try again.',
  unavailableTitle: 'Temporarily unavailable',
  unavailableBody: 'We cannot reach your records right now, so nothing was shown or changed. Please try again in a moment.',
  formatDate: dateFormat('en-GB', 'UTC'),

  signInTitle: 'Sign in',
  signInIntro: 'Sign in to answer consent requests and to see who has read your credit-score information.',
  signInWithIssuer: (name) => `Sign in with ${name}`,
  tokenLegend: 'Sign in with a token (test and development only)',
  tokenLabel: 'Subject token',
  tokenHelp: 'Create one with: consentry token --role subject --sub YOUR-ID',
  tokenSubmit: 'Sign in with token',
  tokenInvalid: 'That token could not be verified. It may have expired; create a new one.',
  oidcFailed: 'Signing in through your identity provider did not complete. Please try again.',
  noSignInMethod: 'No sign-in method is configured. Ask the operator to configure an identity provider.',

  consentTitle: (partner) => `${partner} asks for your consent`,
  consentIntro: (partner) =>
    `${partner} would like to read some of your credit-score information. Nothing is shared unless you approve, and you can approve only some of it.`,
  aboutPartner: 'Who is asking',
  partnerName: 'Company',
  industry: 'Industry',
  industryName: (code) => INDUSTRIES_EN[code] ?? code,
  contact: 'Contact',
  contactNone: 'Not provided',
  purpose: 'Purpose',
  categoriesLegend: 'What they would be able to read',
  categoriesHelp: 'Untick anything you do not want to share. They will not see what you untick.',
  duration: 'For how long',
  durationValue: (days) => `${days} day${days === 1 ? '' : 's'} from your approval, unless you withdraw earlier`,
  requestExpires: (date) => `If you do not answer, this request lapses on ${date}.`,
  withdrawLater: 'You can withdraw your consent at any time on your',
  withdrawLaterLink: 'My data page',
  approve: 'Approve selected',
  decline: 'Decline',
  selectAtLeastOne: 'Select at least one item to approve, or choose Decline.',
  requestStatus: {
    APPROVED: 'You have already approved this request.',
    DECLINED: 'You have declined this request.',
    EXPIRED: 'This request has lapsed without an answer. The company can send a new one.',
  },
  resultTitle: 'Done',
  resultApproved: (partner) => `You approved the request from ${partner}.`,
  resultDeclined: (partner) => `You declined the request from ${partner}. Nothing is shared.`,

  meTitle: 'My data',
  signedInAs: (sub) => `Signed in as ${sub}`,
  activeConsents: 'Active consents',
  pastConsents: 'Past consents',
  noActiveConsents: 'You have no active consents. No company can read your information.',
  noPastConsents: 'None.',
  pendingRequests: 'Waiting for your answer',
  pendingIntro: 'Companies that asked for your consent. Nothing is shared until you approve.',
  lapses: 'Lapses',
  reviewRequest: (partner) => `Review the request from ${partner}`,
  review: 'Review',
  partner: 'Company',
  categories: 'What they can read',
  granted: 'Granted',
  expires: 'Expires',
  ended: 'Ended',
  status: 'Status',
  consentStatus: { ACTIVE: 'Active', REVOKED: 'Withdrawn', EXPIRED: 'Expired' },
  receipt: 'Receipt',
  viewReceipt: 'Receipt',
  revoke: 'Withdraw…',
  revokeFor: (partner, purpose) => `Withdraw consent for ${partner}, ${purpose}`,
  accessLogTitle: 'Who read what, and when',
  accessLogIntro: 'Every time a company asked for your information, newest first, with what was shared and what was refused.',
  accessLogEmpty: 'No company has asked for your information yet.',
  when: 'When',
  released: 'Shared',
  denied: 'Refused',
  nothing: '—',
  olderEntries: 'Older entries',
  newestEntries: 'Newest entries',
  revokedNotice: (partner) => `Consent withdrawn. ${partner} can no longer read your information for that purpose.`,

  revokeTitle: 'Withdraw consent?',
  revokeConsequence: (partner, categories, purpose) => `${partner} will no longer be able to read ${categories} for ${purpose}.`,
  revokeKeeps: 'This takes effect immediately. What they read before stays in your access log.',
  confirmRevoke: 'Yes, withdraw',
  cancel: 'Cancel',

  receiptTitle: 'Consent receipt',
  receiptIntro:
    'This receipt is signed by Consentry. Anyone can check it with the public keys at /.well-known/jwks.json, for example with: consentry receipt verify FILE',
  receiptValid: 'The signature on this receipt is valid.',
  receiptDownload: 'Download receipt (.jws)',
  receiptSignedBy: (kid) => `Signed with key ${kid}`,
  consentId: 'Consent id',

  recordTitle: 'Your whole record',
  recordIntro:
    'Download everything this gateway holds about you: your score summary as it was imported, your consents with their signed receipts, consent requests and every read of your data, including refused ones. Each download is recorded in the audit log.',
  downloadJson: 'Download my record (JSON)',
  downloadCsv: 'Download my record (CSV)',
  eraseLink: 'Erase my data…',
  eraseTitle: 'Erase your data?',
  eraseWillDo: [
    'Every consent you have given is withdrawn now: from the next request on, no partner can read anything about you.',
    'Your score summary and identity check are deleted from this gateway.',
    'Your past consents and consent requests keep no link to you, and their signed receipts are deleted.',
    'The audit log cannot be changed, so its records of who read what stay, but the key that tied them to you is destroyed: nobody, this gateway included, can tell any more which records were about you. Records written before the gateway used such keys still carry your id; they are hidden from everyday views.',
    'A partner asking about you afterwards gets exactly the answer it gets for someone the gateway has never heard of.',
  ],
  eraseConfirmHelp: 'This cannot be undone. Download your record first if you want a copy.',
  confirmErase: 'Yes, erase my data',
  erasedNotice: 'Your data has been erased. No partner can read anything about you, and the audit log no longer links its records to you.',
  eraseNothing: 'This gateway holds nothing about you to erase.',
};

const zhCN: Messages = {
  languageName: '中文',
  switchLanguage: '语言',
  signIn: '登录',
  signOut: '退出登录',
  myData: '我的数据',
  notFoundTitle: '未找到',
  notFoundBody: '该页面不存在，或并非发给您的。请检查您收到的链接。',
  badFormTitle: '表单已失效',
  badFormBody: '为了您的安全，此表单未被接受。请返回并刷新页面后重试。',
  unavailableTitle: '暂时无法使用',
  unavailableBody: '目前无法访问您的记录，因此没有显示或更改任何内容。请稍后再试。',
  formatDate: dateFormat('zh-CN', '（UTC）'),

  signInTitle: '登录',
  signInIntro: '登录后即可答复授权请求，并查看谁读取了您的信用分信息。',
  signInWithIssuer: (name) => `通过 ${name} 登录`,
  tokenLegend: '使用令牌登录（仅限测试和开发环境）',
  tokenLabel: '用户令牌',
  tokenHelp: '生成方式：consentry token --role subject --sub 您的ID',
  tokenSubmit: '使用令牌登录',
  tokenInvalid: '无法验证该令牌，可能已过期，请重新生成。',
  oidcFailed: '通过身份提供方登录未能完成，请重试。',
  noSignInMethod: '尚未配置任何登录方式，请联系运营方配置身份提供方。',

  consentTitle: (partner) => `${partner} 请求您的授权`,
  consentIntro: (partner) => `${partner} 希望读取您的部分信用分信息。未经您同意不会共享任何信息，您也可以只同意其中一部分。`,
  aboutPartner: '请求方',
  partnerName: '公司',
  industry: '行业',
  industryName: (code) => INDUSTRIES_ZH[code] ?? code,
  contact: '联系方式',
  contactNone: '未提供',
  purpose: '用途',
  categoriesLegend: '对方将可以读取的信息',
  categoriesHelp: '取消勾选您不想共享的项目，对方将看不到这些信息。',
  duration: '有效期',
  durationValue: (days) => `自您同意之日起 ${days} 天，您可随时提前撤回`,
  requestExpires: (date) => `如您不作答复，此请求将于 ${date} 失效。`,
  withdrawLater: '您可以随时在以下页面撤回授权：',
  withdrawLaterLink: '我的数据',
  approve: '同意所选项目',
  decline: '拒绝',
  selectAtLeastOne: '请至少选择一项后同意，或选择“拒绝”。',
  requestStatus: {
    APPROVED: '您已同意此请求。',
    DECLINED: '您已拒绝此请求。',
    EXPIRED: '此请求因未答复已失效，对方可以重新发送请求。',
  },
  resultTitle: '已完成',
  resultApproved: (partner) => `您已同意 ${partner} 的请求。`,
  resultDeclined: (partner) => `您已拒绝 ${partner} 的请求，不会共享任何信息。`,

  meTitle: '我的数据',
  signedInAs: (sub) => `当前登录：${sub}`,
  activeConsents: '有效的授权',
  pastConsents: '过往的授权',
  noActiveConsents: '您目前没有有效的授权，任何公司都无法读取您的信息。',
  noPastConsents: '无。',
  pendingRequests: '等待您答复的请求',
  pendingIntro: '以下公司请求您的授权。在您同意之前，不会共享任何信息。',
  lapses: '失效时间',
  reviewRequest: (partner) => `查看 ${partner} 的请求`,
  review: '查看',
  partner: '公司',
  categories: '可读取的信息',
  granted: '授权时间',
  expires: '到期时间',
  ended: '结束时间',
  status: '状态',
  consentStatus: { ACTIVE: '有效', REVOKED: '已撤回', EXPIRED: '已过期' },
  receipt: '凭证',
  viewReceipt: '凭证',
  revoke: '撤回…',
  revokeFor: (partner, purpose) => `撤回对 ${partner}（${purpose}）的授权`,
  accessLogTitle: '谁在何时读取了什么',
  accessLogIntro: '每一次公司请求您的信息的记录，最新的在前，包括已共享和被拒绝的内容。',
  accessLogEmpty: '目前还没有公司请求过您的信息。',
  when: '时间',
  released: '已共享',
  denied: '已拒绝',
  nothing: '—',
  olderEntries: '更早的记录',
  newestEntries: '最新的记录',
  revokedNotice: (partner) => `授权已撤回。${partner} 不能再为该用途读取您的信息。`,

  revokeTitle: '确定撤回授权？',
  revokeConsequence: (partner, categories, purpose) => `${partner} 将无法再为“${purpose}”读取您的${categories}。`,
  revokeKeeps: '撤回立即生效。此前的读取记录仍会保留在您的访问记录中。',
  confirmRevoke: '确定撤回',
  cancel: '取消',

  receiptTitle: '授权凭证',
  receiptIntro: '此凭证由 Consentry 签名。任何人都可以使用 /.well-known/jwks.json 上公布的公钥验证，例如：consentry receipt verify 文件名',
  receiptValid: '此凭证的签名有效。',
  receiptDownload: '下载凭证（.jws）',
  receiptSignedBy: (kid) => `签名密钥：${kid}`,
  consentId: '授权编号',

  recordTitle: '您的完整记录',
  recordIntro: '下载本网关保存的关于您的全部信息：导入时的分数摘要、附签名凭证的授权、授权请求，以及每一次对您数据的读取（包括被拒绝的读取）。每次下载都会记入审计日志。',
  downloadJson: '下载我的记录（JSON）',
  downloadCsv: '下载我的记录（CSV）',
  eraseLink: '删除我的数据…',
  eraseTitle: '确定删除您的数据？',
  eraseWillDo: [
    '您给出的所有授权立即撤回：从下一次请求起，任何合作方都无法读取您的任何信息。',
    '您的分数摘要和身份验证信息将从本网关删除。',
    '您过去的授权和授权请求不再与您关联，其签名凭证将被删除。',
    '审计日志不可更改，因此谁读取了什么的记录会保留，但将这些记录与您关联的密钥会被销毁：任何人（包括本网关）都无法再分辨哪些记录与您有关。网关启用此类密钥之前写入的记录仍含有您的编号，它们将在日常视图中隐藏。',
    '此后合作方查询您时，得到的回答与查询一个本网关从未知晓的人完全相同。',
  ],
  eraseConfirmHelp: '此操作无法撤销。如需保留副本，请先下载您的记录。',
  confirmErase: '确定删除我的数据',
  erasedNotice: '您的数据已删除。任何合作方都无法读取您的信息，审计日志中的记录也不再与您关联。',
  eraseNothing: '本网关没有保存任何可删除的关于您的信息。',
};

const CATALOGUE: Record<Lang, Messages> = { en, 'zh-CN': zhCN };

export function messagesFor(lang: Lang): Messages {
  return CATALOGUE[lang];
}

/** Joins a list the way each language does ("a, b and c" / "a、b 和 c"). */
export function joinList(lang: Lang, items: readonly string[]): string {
  return new Intl.ListFormat(lang === 'zh-CN' ? 'zh-CN' : 'en-GB', { style: 'long', type: 'conjunction' }).format(items);
}
