// The UI's strings in English and Simplified Chinese, and the current
// language. `zh` is typed as Record<Key, string>: a key missing from it (or
// one it has that English lacks) fails `tsc`, so no screen can ship half
// translated. `{name}` in a string is filled from `vars`.
//
// Elements that keep a translated text are registered with `setText` /
// `setAttrText` (data-i18n attributes); `setLocale` re-translates them in
// place, and screens that render data re-render through `onLocaleChange`.

export type Locale = "en" | "zh-CN";
export const LOCALES: readonly Locale[] = ["en", "zh-CN"];
export const LOCALE_KEY = "vitrine.locale";

const en = {
  "app.title": "Vitrine",
  "app.tagline": "Product photos in, listings out — on this machine.",
  "app.uiLanguage": "Interface language",
  "nav.label": "Screens",
  "nav.library": "Library",
  "nav.review": "Review queue",
  "nav.export": "Export",
  "nav.settings": "Settings",
  "error.dismiss": "Dismiss",
  "error.generic": "Something went wrong",
  "error.blocked": "The checks block approval",
  "error.illegal": "This action does not apply to the draft's state",
  "error.forbidden": "Not allowed",
  "error.notFound": "Not found",
  "error.input": "Please check what you entered",
  "error.file": "This file cannot be added",
  "error.io": "A file could not be read or written",
  "error.model": "The model is not installed",
  "error.busy": "Already running",

  "library.addPhotos": "Add product photos",
  "library.dropHere": "Drop product photos here",
  "library.formats": "JPEG, PNG or WebP",
  "library.choose": "Choose photo…",
  "library.products": "Products",
  "library.noProducts": "No products yet.",
  "library.search": "Search products",
  "library.noMatch": "No product matches “{q}”.",
  "library.noneSelected": "No product selected",
  "library.noneSelectedHint": "Add a product photo, or choose a product from the list.",
  "library.reading": "Reading {name}…",
  "library.duplicate": "{name} is already in the library.",
  "library.added": "Added {name}.",
  "library.photoOf": "Photo of {name}",
  "library.theProduct": "the product",
  "product.untitled": "Product {id}",
  "product.drafts.one": "1 draft",
  "product.drafts.other": "{n} drafts",
  "product.whatVitrineSaw": "What Vitrine saw",
  "product.savedDrafts": "Saved drafts",
  "product.noDrafts": "No drafts yet.",

  "generate.form": "Generate a listing",
  "generate.language": "Language",
  "generate.marketplace": "Marketplace",
  "generate.model": "Model",
  "generate.generic": "Generic",
  "generate.taobao": "Taobao / Tmall",
  "generate.button": "Generate listing",
  "generate.running": "Generating…",
  "generate.cancel": "Cancel",
  "generate.cancelling": "Cancelling…",
  "generate.starting": "Starting…",
  "generate.saved": "Saved draft #{id}.",
  "generate.cancelled": "Cancelled.",
  "generate.failed": "Generation failed.",
  "generate.loading": "Loading model {model}…",
  "generate.loaded": "Model {model} loaded in {s} s; writing…",
  "generate.loadedMem": "Model {model} loaded in {s} s ({mb} MB in memory); writing…",
  "generate.retry": "The output was not a valid listing ({reason}); trying once more…",
  "generate.retryMark": "— retry —",
  "generate.output": "Model output as it is written",
  "generate.noModel": "No model installed — run: vitrine models fetch",
  "generate.default": "default",

  "facts.label": "Facts",
  "facts.none": "No facts yet.",
  "facts.notSet": "not set",
  "facts.notUsed": "not used: you set this",
  "facts.edit": "Edit",
  "facts.editKey": "Edit {key}",
  "facts.add": "Add a fact",
  "facts.chooseAttr": "Choose an attribute…",
  "facts.saved": "Saved your {key}.",
  "facts.cleared": "Cleared your {key}.",
  "facts.hintMulti": "Choose one or more (Ctrl-click or Shift-click); choose none to clear your values.",
  "facts.hintSingle": "Choose “not set” to clear your value.",
  "facts.optionNotSet": "— not set —",
  "facts.save": "Save",
  "facts.cancel": "Cancel",
  "source.prefix": "Source: ",
  "source.colour": "photo colours",
  "source.classifier": "classifier{sure}",
  "source.vision": "vision model{sure}",
  "source.ocr": "text on the product",
  "source.title": "product title",
  "source.import": "imported",
  "source.user": "you",

  "draft.label": "Draft {id}",
  "draft.noVersions": "This draft has no versions.",
  "draft.fromCache": "from the generation cache",
  "draft.tokens": "{n} tokens in {s} s",
  "draft.attempts": "{n} attempts",
  "draft.bullets": "Bullet points",
  "draft.keywords": "Keywords",
  "draft.warnings": "Check warnings",
  "draft.untitled": "(untitled)",
  "findings.label": "Check findings",
  "findings.blocking.one": "1 blocking problem: this draft cannot be approved until fixed",
  "findings.blocking.other": "{n} blocking problems: this draft cannot be approved until fixed",
  "findings.notes": "Notes for the reviewer",
  "findings.none": "The checks found nothing.",
  "findings.blockingTag": "Blocking",
  "findings.warningTag": "Warning",
  "findings.fix": "Fix: {text}",

  "role.author": "author",
  "role.reviewer": "reviewer",
  "role.admin": "admin",
  "status.all": "All states",
  "status.draft": "Draft",
  "status.in_review": "In review",
  "status.approved": "Approved",
  "status.changes_requested": "Changes requested",
  "status.rejected": "Rejected",
  "status.exported": "Exported",

  "review.title": "Review queue",
  "review.filter": "State",
  "review.refresh": "Refresh",
  "review.selectAll": "Select all",
  "review.selectDraft": "Select draft #{id}",
  "review.bulkApprove": "Approve selected",
  "review.bulkReject": "Reject selected",
  "review.bulkDone": "{done} done, {failed} not changed.",
  "review.bulkFailed": "#{id}: {error}",
  "review.list": "Drafts",
  "review.empty": "No drafts in this state.",
  "review.pick": "Choose a draft to review it.",
  "review.meta": "Draft #{id} · product {product} · {lang} · {marketplace} · v{version}",
  "review.actingAs": "Acting as {name} ({role})",
  "review.actions": "Review actions",
  "review.note": "Note (kept in the audit trail)",
  "review.override": "Override reason (admins: approve despite blocking findings)",
  "review.overrideNeeded": "Blocking findings stand: give an override reason to approve anyway.",
  "review.action.submit": "Submit for review",
  "review.action.approve": "Approve",
  "review.action.request_changes": "Request changes",
  "review.action.reject": "Reject",
  "review.action.reopen": "Reopen",
  "review.noActions": "No action applies to this draft now.",
  "review.done.submit": "Submitted for review.",
  "review.done.approve": "Approved.",
  "review.done.approveOverride": "Approved (blocking findings overridden).",
  "review.done.request_changes": "Changes requested.",
  "review.done.reject": "Rejected.",
  "review.done.reopen": "Reopened.",
  "review.fields": "Current version",
  "review.findings": "Findings",
  "review.edit": "Edit text",
  "review.editTitle": "Title",
  "review.editBullets": "Bullet points (one a line)",
  "review.editDescription": "Description",
  "review.editKeywords": "Keywords (comma-separated)",
  "review.editSave": "Save as a new version",
  "review.editCancel": "Cancel",
  "review.edited": "Saved version {version}.",
  "review.versions": "Versions",
  "review.version": "v{version} by {author} · {at}",
  "review.diff": "Compare",
  "review.diffFrom": "From",
  "review.diffTo": "To",
  "review.diffShow": "Show changes",
  "review.diffSame": "Versions {from} and {to} have the same text.",
  "review.diffOne": "Only one version so far: nothing to compare.",
  "review.deleted": "removed",
  "review.inserted": "added",
  "review.comments": "Comments",
  "review.noComments": "No comments yet.",
  "review.commentField": "Field",
  "review.commentBody": "Comment",
  "review.commentAdd": "Add comment",
  "review.commentAdded": "Comment added.",
  "review.comment": "{author} on {field} (v{version}) · {at}",
  "review.history": "Audit trail",
  "review.historyItem": "{at} · {actor} · {action}",

  "export.title": "Export",
  "export.intro": "Write the newest listing of each product to a shop file.",
  "export.format": "Format",
  "export.format.shopify": "Shopify (product CSV)",
  "export.format.amazon": "Amazon (flat file)",
  "export.format.json": "JSON",
  "export.format.markdown": "Markdown",
  "export.format.html": "HTML",
  "export.lang": "Listing language",
  "export.unapproved": "Include drafts that are not approved",
  "export.unapprovedHint": "Approved drafts that go out are marked exported; unapproved ones are written but not marked.",
  "export.path": "Save to",
  "export.pathHint": "A full path ending in .{ext}; leave it as it is to save under the data folder.",
  "export.run": "Export",
  "export.running": "Exporting…",
  "export.done": "Written: {products} product(s), {rows} row(s), to {path}.",
  "export.skipped": "{n} products had no approved listing and were left out.",

  "settings.title": "Settings",
  "settings.language": "Interface language",
  "settings.theme": "Theme",
  "settings.theme.system": "Follow the system",
  "settings.theme.light": "Light",
  "settings.theme.dark": "Dark",
  "settings.dataDir": "Data folder",
  "settings.modelsDir": "Models folder",
  "settings.exportsDir": "Exports folder",
  "settings.profile": "Profile",
  "settings.version": "Version",
  "settings.dataHint": "Set VITRINE_DATA_DIR before starting the app to use another folder.",

  // ---- Batch, Models, Reviews screens and the product screen's script (studio2)
  "nav.batch": "Batch",
  "nav.models": "Models",
  "nav.reviews": "Reviews",
  "batch.title": "Batch",
  "batch.intro": "Write copy for a whole catalogue: a product CSV (Shopify or generic) or a folder of product photos. Runs go on while you use other screens.",
  "batch.source": "Catalogue file or folder",
  "batch.sourceHint": "The full path of a CSV file or of a folder of photos — or drop one on the window.",
  "batch.outputs": "Outputs",
  "batch.output.listing": "Listing",
  "batch.output.script": "Livestream script",
  "batch.output.reviews": "Review summary",
  "batch.reviewsDir": "Folder of review files (HANDLE.csv per product)",
  "batch.minutes": "Minutes per script",
  "batch.langs": "Languages",
  "batch.lang.en": "English",
  "batch.lang.zh": "Simplified Chinese",
  "batch.marketplace": "Marketplace",
  "batch.marketplaceAuto": "Shopify for a Shopify CSV, else generic",
  "batch.modelAuto": "Chosen by the router",
  "batch.start": "Start batch",
  "batch.dropped": "{name} will be the catalogue; choose the options and start.",
  "batch.reading": "Reading the catalogue…",
  "batch.importing": "Importing products: {done} of {total}…",
  "batch.started": "Batch #{id} started: {products} product(s), {items} item(s); {problems} row(s) not imported.",
  "batch.resumed": "Batch #{id} had the same catalogue and options: it goes on ({items} item(s)).",
  "batch.queue": "Batches",
  "batch.none": "No batches yet.",
  "batch.progressLabel": "Progress of batch {id}",
  "batch.figures": "{finished} of {total} finished ({pct}%)",
  "batch.failedN": "{n} failed",
  "batch.skippedN": "{n} skipped",
  "batch.eta": "about {eta} left",
  "batch.working": "Working on: {kind} ({lang}) for product #{id}",
  "batch.status.queued": "Queued",
  "batch.status.running": "Running",
  "batch.status.paused": "Paused",
  "batch.status.cancelled": "Cancelled",
  "batch.status.done": "Done",
  "batch.status.interrupted": "Interrupted",
  "batch.pause": "Pause",
  "batch.resume": "Resume",
  "batch.resumeInterrupted": "Resume",
  "batch.retryFailed": "Retry failed items",
  "batch.cancel": "Cancel batch",
  "batch.details": "Errors",
  "batch.hideDetails": "Hide errors",
  "batch.noErrors": "No failed items and every row was imported.",
  "batch.failures": "Failed items",
  "batch.importErrors": "Rows not imported",
  "batch.line": "line {n}",
  "models.title": "Models",
  "models.intro": "The models Vitrine knows. Installed ones run on this machine; fetch a missing one to use it.",
  "models.device": "Device",
  "models.built": "this build: {list}",
  "models.backend": "Generation runs on",
  "models.local": "this machine",
  "models.loaded": "In memory now",
  "models.noneLoaded": "none (loaded at the next generation)",
  "models.router": "Router",
  "models.routerValue": "bigger model above difficulty {threshold}",
  "models.routerHint": "The router sends each request to the smallest installed model that suits it; set VITRINE_ROUTER_THRESHOLD (0–1) before starting the app to change when it picks a bigger one, or pin a model on the product screen.",
  "models.dir": "Models folder",
  "models.name": "Model",
  "models.role": "Role",
  "models.size": "Size",
  "models.licence": "Licence",
  "models.state": "State",
  "models.action": "Action",
  "models.installed": "Installed",
  "models.missing": "Missing",
  "models.fetch": "Fetch",
  "models.fetchOf": "Fetching {id}",
  "models.starting": "Starting…",
  "models.downloading": "Downloading ({source})…",
  "models.assembling": "{done} of {total}",
  "reviews.title": "Reviews",
  "reviews.intro": "Summarise a product's customer reviews: a CSV, JSON or text file, in English or Chinese. Counts, charts and quotes are computed from the file; the model writes the paragraph.",
  "reviews.file": "Review file",
  "reviews.fileHint": "The full path of a .csv, .json, .jsonl or .txt file — or drop one on the window.",
  "reviews.product": "For product",
  "reviews.noProduct": "None (do not save)",
  "reviews.lang": "Summary language",
  "reviews.run": "Summarise",
  "reviews.reading": "Reading the reviews…",
  "reviews.chunk": "Summarising part {n} of {total}…",
  "reviews.writing": "Writing the paragraph…",
  "reviews.retry": "The paragraph was rejected ({reason}); trying again…",
  "reviews.done": "Summarised in {s} s.",
  "reviews.counts": "{total} reviews read, {usable} used; {dup} duplicate(s), {sus} suspicious; mean rating {mean}.",
  "reviews.ratingChart": "Rating distribution",
  "reviews.ratingCaption": "Ratings of all reviews read ({unrated} without a rating).",
  "reviews.aspectChart": "What reviews talk about",
  "reviews.aspectCaption": "Mentions per aspect: positive, neutral, negative.",
  "reviews.pros": "Pros",
  "reviews.cons": "Cons",
  "reviews.proLine": "{name}: {n} of {of} mentions positive",
  "reviews.conLine": "{name}: {n} of {of} mentions negative",
  "reviews.noneFound": "None stands out.",
  "reviews.problems": "Problems reported",
  "reviews.problemLine": "{kind}: {n} review(s)",
  "reviews.paragraph": "Summary",
  "reviews.noParagraph": "Too few usable reviews for a summary.",
  "reviews.source.model": "Written by {model}.",
  "reviews.source.template": "The model's paragraph was rejected twice: this one is built from the counts.",
  "reviews.source.notEnough": "Not enough reviews for the model to summarise.",
  "reviews.quotes": "Quotes (found word for word in the reviews)",
  "reviews.suspicious": "Set aside as suspicious",
  "reviews.savedDraft": "Saved as draft #{id} of the product.",
  "script.button": "Write a livestream script",
  "script.minutes": "Minutes",
  "script.timing": "Spoken time {measured} s of {target} s planned",
  "script.saved": "Script saved as draft #{id}.",
  // Try-on
  "nav.tryon": "Try-on",
  "error.gpu": "No graphics adapter for the 3D preview",
  "error.render": "The 3D preview failed",
  "tryon.title": "Try-on",
  "tryon.product": "Product",
  "tryon.garment": "Garment",
  "tryon.garment.tshirt": "T-shirt",
  "tryon.garment.hoodie": "Hoodie",
  "tryon.garment.polo": "Polo shirt",
  "tryon.garment.dress": "Dress",
  "tryon.size": "Size",
  "tryon.back": "Back photo",
  "tryon.backNone": "None (the garment's colour)",
  "tryon.view": "View",
  "tryon.view.front": "Front",
  "tryon.view.back": "Back",
  "tryon.view.34": "Three-quarter",
  "tryon.turn": "Turn",
  "tryon.stop": "Stop",
  "tryon.save": "Save PNG",
  "tryon.saved": "Saved {path}",
  "tryon.preparing": "Preparing the 3D scene…",
  "tryon.failed": "The 3D preview could not be prepared.",
  "tryon.help": "Drag to turn, scroll or pinch to zoom; the arrow keys and + / − work too.",
  "tryon.fromCategory": "Garment chosen from the category {category}. Drag to turn, scroll to zoom.",
  "tryon.canvas": "3D preview of {name}: drag or use the arrow keys to turn it, + and − to zoom",
  "tryon.adapter": "Rendered on {adapter}",
  "tryon.adapterSoftware": "Rendered in software on {adapter}",
  "tryon.fps": "{fps} fps",
  "tryon.noProducts": "Add a product photo in the Library first.",
} as const;

export type Key = keyof typeof en;

const zh: Record<Key, string> = {
  "app.title": "Vitrine",
  "app.tagline": "放入商品照片，生成商品文案——全部在本机完成。",
  "app.uiLanguage": "界面语言",
  "nav.label": "页面",
  "nav.library": "商品库",
  "nav.review": "审核队列",
  "nav.export": "导出",
  "nav.settings": "设置",
  "error.dismiss": "关闭",
  "error.generic": "出现错误",
  "error.blocked": "检查发现阻止性问题，无法批准",
  "error.illegal": "此操作不适用于草稿的当前状态",
  "error.forbidden": "没有权限",
  "error.notFound": "未找到",
  "error.input": "请检查输入的内容",
  "error.file": "无法添加此文件",
  "error.io": "无法读取或写入文件",
  "error.model": "模型未安装",
  "error.busy": "正在进行中",

  "library.addPhotos": "添加商品照片",
  "library.dropHere": "将商品照片拖到这里",
  "library.formats": "JPEG、PNG 或 WebP",
  "library.choose": "选择照片…",
  "library.products": "商品",
  "library.noProducts": "还没有商品。",
  "library.search": "搜索商品",
  "library.noMatch": "没有与“{q}”匹配的商品。",
  "library.noneSelected": "未选择商品",
  "library.noneSelectedHint": "添加一张商品照片，或从列表中选择一个商品。",
  "library.reading": "正在读取 {name}…",
  "library.duplicate": "{name} 已在商品库中。",
  "library.added": "已添加 {name}。",
  "library.photoOf": "{name} 的照片",
  "library.theProduct": "商品",
  "product.untitled": "商品 {id}",
  "product.drafts.one": "1 份草稿",
  "product.drafts.other": "{n} 份草稿",
  "product.whatVitrineSaw": "Vitrine 识别到的信息",
  "product.savedDrafts": "已保存的草稿",
  "product.noDrafts": "还没有草稿。",

  "generate.form": "生成商品文案",
  "generate.language": "语言",
  "generate.marketplace": "平台",
  "generate.model": "模型",
  "generate.generic": "通用",
  "generate.taobao": "淘宝 / 天猫",
  "generate.button": "生成文案",
  "generate.running": "正在生成…",
  "generate.cancel": "取消",
  "generate.cancelling": "正在取消…",
  "generate.starting": "正在开始…",
  "generate.saved": "已保存草稿 #{id}。",
  "generate.cancelled": "已取消。",
  "generate.failed": "生成失败。",
  "generate.loading": "正在加载模型 {model}…",
  "generate.loaded": "模型 {model} 已加载，用时 {s} 秒；正在写作…",
  "generate.loadedMem": "模型 {model} 已加载，用时 {s} 秒（占用内存 {mb} MB）；正在写作…",
  "generate.retry": "输出不是有效的商品文案（{reason}）；再试一次…",
  "generate.retryMark": "— 重试 —",
  "generate.output": "模型正在输出的文字",
  "generate.noModel": "未安装模型——请运行：vitrine models fetch",
  "generate.default": "默认",

  "facts.label": "商品属性",
  "facts.none": "还没有属性。",
  "facts.notSet": "未设置",
  "facts.notUsed": "未使用：已由你设置",
  "facts.edit": "编辑",
  "facts.editKey": "编辑{key}",
  "facts.add": "添加属性",
  "facts.chooseAttr": "选择一个属性…",
  "facts.saved": "已保存你设置的{key}。",
  "facts.cleared": "已清除你设置的{key}。",
  "facts.hintMulti": "可选择一个或多个（Ctrl 或 Shift 点击）；全部不选即清除。",
  "facts.hintSingle": "选择“未设置”即可清除。",
  "facts.optionNotSet": "— 未设置 —",
  "facts.save": "保存",
  "facts.cancel": "取消",
  "source.prefix": "来源：",
  "source.colour": "照片颜色",
  "source.classifier": "分类器{sure}",
  "source.vision": "视觉模型{sure}",
  "source.ocr": "商品上的文字",
  "source.title": "商品标题",
  "source.import": "导入",
  "source.user": "你",

  "draft.label": "草稿 {id}",
  "draft.noVersions": "这份草稿没有版本。",
  "draft.fromCache": "来自生成缓存",
  "draft.tokens": "{s} 秒生成 {n} 个词元",
  "draft.attempts": "尝试 {n} 次",
  "draft.bullets": "卖点",
  "draft.keywords": "关键词",
  "draft.warnings": "检查提醒",
  "draft.untitled": "（无标题）",
  "findings.label": "检查结果",
  "findings.blocking.one": "1 个阻止性问题：修正前不能批准这份草稿",
  "findings.blocking.other": "{n} 个阻止性问题：修正前不能批准这份草稿",
  "findings.notes": "给审核人的提示",
  "findings.none": "检查没有发现问题。",
  "findings.blockingTag": "阻止",
  "findings.warningTag": "提醒",
  "findings.fix": "建议：{text}",

  "role.author": "作者",
  "role.reviewer": "审核人",
  "role.admin": "管理员",
  "status.all": "全部状态",
  "status.draft": "草稿",
  "status.in_review": "审核中",
  "status.approved": "已批准",
  "status.changes_requested": "需要修改",
  "status.rejected": "已拒绝",
  "status.exported": "已导出",

  "review.title": "审核队列",
  "review.filter": "状态",
  "review.refresh": "刷新",
  "review.selectAll": "全选",
  "review.selectDraft": "选择草稿 #{id}",
  "review.bulkApprove": "批准所选",
  "review.bulkReject": "拒绝所选",
  "review.bulkDone": "完成 {done} 份，{failed} 份未更改。",
  "review.bulkFailed": "#{id}：{error}",
  "review.list": "草稿",
  "review.empty": "没有处于此状态的草稿。",
  "review.pick": "选择一份草稿开始审核。",
  "review.meta": "草稿 #{id} · 商品 {product} · {lang} · {marketplace} · v{version}",
  "review.actingAs": "当前身份：{name}（{role}）",
  "review.actions": "审核操作",
  "review.note": "备注（记入审计记录）",
  "review.override": "强制批准理由（管理员：存在阻止性问题时仍批准）",
  "review.overrideNeeded": "存在阻止性问题：填写强制批准理由后才能批准。",
  "review.action.submit": "提交审核",
  "review.action.approve": "批准",
  "review.action.request_changes": "要求修改",
  "review.action.reject": "拒绝",
  "review.action.reopen": "重新打开",
  "review.noActions": "目前没有可执行的操作。",
  "review.done.submit": "已提交审核。",
  "review.done.approve": "已批准。",
  "review.done.approveOverride": "已批准（已强制忽略阻止性问题）。",
  "review.done.request_changes": "已要求修改。",
  "review.done.reject": "已拒绝。",
  "review.done.reopen": "已重新打开。",
  "review.fields": "当前版本",
  "review.findings": "检查结果",
  "review.edit": "编辑文字",
  "review.editTitle": "标题",
  "review.editBullets": "卖点（每行一条）",
  "review.editDescription": "描述",
  "review.editKeywords": "关键词（用逗号分隔）",
  "review.editSave": "保存为新版本",
  "review.editCancel": "取消",
  "review.edited": "已保存第 {version} 版。",
  "review.versions": "版本",
  "review.version": "v{version} · {author} · {at}",
  "review.diff": "比较",
  "review.diffFrom": "从",
  "review.diffTo": "到",
  "review.diffShow": "显示改动",
  "review.diffSame": "第 {from} 版与第 {to} 版文字相同。",
  "review.diffOne": "目前只有一个版本，无可比较。",
  "review.deleted": "删除",
  "review.inserted": "新增",
  "review.comments": "评论",
  "review.noComments": "还没有评论。",
  "review.commentField": "字段",
  "review.commentBody": "评论",
  "review.commentAdd": "添加评论",
  "review.commentAdded": "已添加评论。",
  "review.comment": "{author} 评论 {field}（v{version}）· {at}",
  "review.history": "审计记录",
  "review.historyItem": "{at} · {actor} · {action}",

  "export.title": "导出",
  "export.intro": "将每个商品的最新文案写入店铺文件。",
  "export.format": "格式",
  "export.format.shopify": "Shopify（商品 CSV）",
  "export.format.amazon": "亚马逊（平面文件）",
  "export.format.json": "JSON",
  "export.format.markdown": "Markdown",
  "export.format.html": "HTML",
  "export.lang": "文案语言",
  "export.unapproved": "包括未批准的草稿",
  "export.unapprovedHint": "导出的已批准草稿会标记为已导出；未批准的只写入文件，不做标记。",
  "export.path": "保存到",
  "export.pathHint": "以 .{ext} 结尾的完整路径；保持默认即保存在数据文件夹中。",
  "export.run": "导出",
  "export.running": "正在导出…",
  "export.done": "已将 {products} 个商品（{rows} 行）写入 {path}。",
  "export.skipped": "{n} 个商品没有已批准的文案，未导出。",

  "settings.title": "设置",
  "settings.language": "界面语言",
  "settings.theme": "主题",
  "settings.theme.system": "跟随系统",
  "settings.theme.light": "浅色",
  "settings.theme.dark": "深色",
  "settings.dataDir": "数据文件夹",
  "settings.modelsDir": "模型文件夹",
  "settings.exportsDir": "导出文件夹",
  "settings.profile": "身份",
  "settings.version": "版本",
  "settings.dataHint": "如需使用其他文件夹，请在启动应用前设置 VITRINE_DATA_DIR。",

  // ---- Batch, Models, Reviews screens and the product screen's script (studio2)
  "nav.batch": "批量",
  "nav.models": "模型",
  "nav.reviews": "评价",
  "batch.title": "批量",
  "batch.intro": "为整个商品目录生成文案：商品 CSV（Shopify 或通用格式）或商品照片文件夹。切换到其他页面时任务会继续运行。",
  "batch.source": "目录文件或文件夹",
  "batch.sourceHint": "CSV 文件或照片文件夹的完整路径——也可以拖放到窗口上。",
  "batch.outputs": "输出",
  "batch.output.listing": "商品文案",
  "batch.output.script": "直播脚本",
  "batch.output.reviews": "评价摘要",
  "batch.reviewsDir": "评价文件夹（每个商品一个 HANDLE.csv）",
  "batch.minutes": "每个脚本的分钟数",
  "batch.langs": "语言",
  "batch.lang.en": "英语",
  "batch.lang.zh": "简体中文",
  "batch.marketplace": "平台",
  "batch.marketplaceAuto": "Shopify CSV 用 Shopify，其他用通用",
  "batch.modelAuto": "由路由器选择",
  "batch.start": "开始批量任务",
  "batch.dropped": "将以 {name} 作为目录；请选择选项后开始。",
  "batch.reading": "正在读取目录…",
  "batch.importing": "正在导入商品：{done} / {total}…",
  "batch.started": "批量任务 #{id} 已开始：{products} 个商品，{items} 项；{problems} 行未导入。",
  "batch.resumed": "批量任务 #{id} 的目录和选项相同：继续运行（{items} 项）。",
  "batch.queue": "批量任务",
  "batch.none": "还没有批量任务。",
  "batch.progressLabel": "批量任务 {id} 的进度",
  "batch.figures": "已完成 {finished} / {total}（{pct}%）",
  "batch.failedN": "{n} 项失败",
  "batch.skippedN": "{n} 项跳过",
  "batch.eta": "约剩 {eta}",
  "batch.working": "正在处理：商品 #{id} 的{kind}（{lang}）",
  "batch.status.queued": "排队中",
  "batch.status.running": "运行中",
  "batch.status.paused": "已暂停",
  "batch.status.cancelled": "已取消",
  "batch.status.done": "已完成",
  "batch.status.interrupted": "已中断",
  "batch.pause": "暂停",
  "batch.resume": "继续",
  "batch.resumeInterrupted": "继续",
  "batch.retryFailed": "重试失败项",
  "batch.cancel": "取消批量任务",
  "batch.details": "错误",
  "batch.hideDetails": "隐藏错误",
  "batch.noErrors": "没有失败项，所有行均已导入。",
  "batch.failures": "失败项",
  "batch.importErrors": "未导入的行",
  "batch.line": "第 {n} 行",
  "models.title": "模型",
  "models.intro": "Vitrine 支持的模型。已安装的模型在本机运行；获取缺少的模型后即可使用。",
  "models.device": "设备",
  "models.built": "本版本支持：{list}",
  "models.backend": "生成运行于",
  "models.local": "本机",
  "models.loaded": "当前已加载",
  "models.noneLoaded": "无（下次生成时加载）",
  "models.router": "路由器",
  "models.routerValue": "难度高于 {threshold} 时使用更大的模型",
  "models.routerHint": "路由器会为每个请求选择合适的最小已安装模型；启动应用前设置 VITRINE_ROUTER_THRESHOLD（0–1）可调整何时选择更大的模型，也可以在商品页面固定模型。",
  "models.dir": "模型文件夹",
  "models.name": "模型",
  "models.role": "用途",
  "models.size": "大小",
  "models.licence": "许可证",
  "models.state": "状态",
  "models.action": "操作",
  "models.installed": "已安装",
  "models.missing": "未安装",
  "models.fetch": "获取",
  "models.fetchOf": "正在获取 {id}",
  "models.starting": "正在开始…",
  "models.downloading": "正在下载（{source}）…",
  "models.assembling": "{done} / {total}",
  "reviews.title": "评价",
  "reviews.intro": "汇总商品的顾客评价：CSV、JSON 或文本文件，中英文均可。数量、图表和引用直接来自文件；摘要段落由模型撰写。",
  "reviews.file": "评价文件",
  "reviews.fileHint": ".csv、.json、.jsonl 或 .txt 文件的完整路径——也可以拖放到窗口上。",
  "reviews.product": "所属商品",
  "reviews.noProduct": "无（不保存）",
  "reviews.lang": "摘要语言",
  "reviews.run": "生成摘要",
  "reviews.reading": "正在读取评价…",
  "reviews.chunk": "正在汇总第 {n} / {total} 部分…",
  "reviews.writing": "正在撰写摘要段落…",
  "reviews.retry": "摘要段落未通过（{reason}），正在重试…",
  "reviews.done": "用时 {s} 秒完成汇总。",
  "reviews.counts": "共读取 {total} 条评价，使用 {usable} 条；{dup} 条重复，{sus} 条可疑；平均评分 {mean}。",
  "reviews.ratingChart": "评分分布",
  "reviews.ratingCaption": "所有评价的评分（{unrated} 条无评分）。",
  "reviews.aspectChart": "评价提到的方面",
  "reviews.aspectCaption": "各方面的提及次数：正面、中性、负面。",
  "reviews.pros": "优点",
  "reviews.cons": "缺点",
  "reviews.proLine": "{name}：{of} 次提及中 {n} 次正面",
  "reviews.conLine": "{name}：{of} 次提及中 {n} 次负面",
  "reviews.noneFound": "没有突出的内容。",
  "reviews.problems": "反馈的问题",
  "reviews.problemLine": "{kind}：{n} 条评价",
  "reviews.paragraph": "摘要",
  "reviews.noParagraph": "可用评价太少，无法生成摘要。",
  "reviews.source.model": "由 {model} 撰写。",
  "reviews.source.template": "模型的段落两次未通过检查：此段落由统计数据生成。",
  "reviews.source.notEnough": "评价数量不足，模型无法汇总。",
  "reviews.quotes": "引用（与评价原文逐字一致）",
  "reviews.suspicious": "被列为可疑的评价",
  "reviews.savedDraft": "已保存为该商品的草稿 #{id}。",
  "script.button": "撰写直播脚本",
  "script.minutes": "分钟",
  "script.timing": "口播时长 {measured} 秒，计划 {target} 秒",
  "script.saved": "脚本已保存为草稿 #{id}。",
  // Try-on
  "nav.tryon": "试穿",
  "error.gpu": "没有可用于 3D 预览的图形适配器",
  "error.render": "3D 预览失败",
  "tryon.title": "3D 试穿",
  "tryon.product": "商品",
  "tryon.garment": "服装",
  "tryon.garment.tshirt": "T 恤",
  "tryon.garment.hoodie": "连帽衫",
  "tryon.garment.polo": "Polo 衫",
  "tryon.garment.dress": "连衣裙",
  "tryon.size": "尺码",
  "tryon.back": "背面照片",
  "tryon.backNone": "无（使用服装颜色）",
  "tryon.view": "视角",
  "tryon.view.front": "正面",
  "tryon.view.back": "背面",
  "tryon.view.34": "四分之三侧面",
  "tryon.turn": "旋转",
  "tryon.stop": "停止",
  "tryon.save": "保存 PNG",
  "tryon.saved": "已保存 {path}",
  "tryon.preparing": "正在准备 3D 场景…",
  "tryon.failed": "无法准备 3D 预览。",
  "tryon.help": "拖动可旋转，滚轮或双指可缩放；也可使用方向键和 + / −。",
  "tryon.fromCategory": "根据类目 {category} 选择的服装。拖动可旋转，滚轮可缩放。",
  "tryon.canvas": "{name} 的 3D 预览：拖动或使用方向键旋转，按 + 和 − 缩放",
  "tryon.adapter": "渲染设备：{adapter}",
  "tryon.adapterSoftware": "软件渲染：{adapter}",
  "tryon.fps": "{fps} 帧/秒",
  "tryon.noProducts": "请先在商品库中添加商品照片。",
};

const DICTS: Record<Locale, Record<Key, string>> = { en, "zh-CN": zh };

export type Vars = Record<string, string | number>;

let current: Locale = "en";
const listeners = new Set<(l: Locale) => void>();
const boundVars = new WeakMap<Element, Vars>();

/** Fill `{name}` placeholders; unknown ones stay as written. */
export function format(template: string, vars?: Vars): string {
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : whole,
  );
}

/** The string for `key` in `locale` (the current language by default). */
export function t(key: Key, vars?: Vars, locale: Locale = current): string {
  return format(DICTS[locale][key], vars);
}

/** `one` for 1, `other` otherwise, with `{n}` filled. */
export function plural(n: number, one: Key, other: Key, vars?: Vars): string {
  return t(n === 1 ? one : other, { n, ...vars });
}

export function isKey(key: string): key is Key {
  return Object.prototype.hasOwnProperty.call(en, key);
}

export function isLocale(v: unknown): v is Locale {
  return typeof v === "string" && (LOCALES as readonly string[]).includes(v);
}

/**
 * The language to start in: the stored choice when there is one, else the
 * first of the system's languages we have (any Chinese → zh-CN), else English.
 */
export function detectLocale(stored: string | null, languages: readonly string[]): Locale {
  if (isLocale(stored)) return stored;
  for (const lang of languages) {
    const l = lang.toLowerCase();
    if (l.startsWith("zh")) return "zh-CN";
    if (l.startsWith("en")) return "en";
  }
  return "en";
}

export function getLocale(): Locale {
  return current;
}

/** Switch language: re-translate the registered elements, tell the screens, remember the choice. */
export function setLocale(locale: Locale, root: ParentNode = document): void {
  current = locale;
  if (typeof document !== "undefined") document.documentElement.lang = locale;
  try {
    localStorage.setItem(LOCALE_KEY, locale);
  } catch {
    // storage may be unavailable; the choice then lasts this session
  }
  applyTranslations(root);
  for (const l of listeners) l(locale);
}

/** Start in the stored or the system's language. */
export function initLocale(): Locale {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(LOCALE_KEY);
  } catch {
    stored = null;
  }
  const langs = typeof navigator !== "undefined" ? (navigator.languages?.length ? navigator.languages : [navigator.language]) : [];
  current = detectLocale(stored, langs);
  if (typeof document !== "undefined") document.documentElement.lang = current;
  return current;
}

export function onLocaleChange(cb: (l: Locale) => void): () => void {
  listeners.add(cb);
  return () => listeners.delete(cb);
}

/** Give `node` the text of `key` now and after every switch; null clears it. */
export function setText<T extends Element>(node: T, key: Key | null, vars?: Vars): T {
  if (key === null) {
    delete (node as unknown as HTMLElement).dataset.i18n;
    boundVars.delete(node);
    node.textContent = "";
    return node;
  }
  (node as unknown as HTMLElement).dataset.i18n = key;
  if (vars) boundVars.set(node, vars);
  else boundVars.delete(node);
  node.textContent = t(key, vars);
  return node;
}

const ATTRS = ["aria-label", "placeholder", "title"] as const;
export type TranslatedAttr = (typeof ATTRS)[number];

/** Give `node`'s attribute the text of `key` now and after every switch. */
export function setAttrText<T extends Element>(node: T, attr: TranslatedAttr, key: Key, vars?: Vars): T {
  node.setAttribute(`data-i18n-${attr}`, key);
  if (vars) boundVars.set(node, vars);
  node.setAttribute(attr, t(key, vars));
  return node;
}

/** A span holding the text of `key`, kept translated. */
export function tspan(key: Key, vars?: Vars): HTMLSpanElement {
  return setText(document.createElement("span"), key, vars);
}

/** Re-translate every registered element under `root`. */
export function applyTranslations(root: ParentNode = document): void {
  for (const node of root.querySelectorAll<HTMLElement>("[data-i18n]")) {
    const key = node.dataset.i18n;
    if (key && isKey(key)) node.textContent = t(key, boundVars.get(node));
  }
  for (const attr of ATTRS) {
    for (const node of root.querySelectorAll(`[data-i18n-${attr}]`)) {
      const key = node.getAttribute(`data-i18n-${attr}`);
      if (key && isKey(key)) node.setAttribute(attr, t(key, boundVars.get(node)));
    }
  }
}

/** Every key, for tests. */
export function keys(): Key[] {
  return Object.keys(en) as Key[];
}
