"""The words pages use to announce boilerplate, in Chinese and English.

Only labels that readers see on many sites belong here (section headers such as 相关新闻 or
"Related stories", copyright and disclaimer formulas, share prompts, byline markers); nothing is
keyed to one site's class names or domain.
"""

from __future__ import annotations

import re
from typing import Final

_TRADITIONAL: Final = (
    "專為舉習於們傳儲關興內寫擊劃則刪別務華協參發號員圖場聲處備實審對屬歸當擴掃報攝權條來構歡點熱現電監碼類約經維"
    "編網聯薦藍觀視訂議訊記許論證評識譯話請讀責貼資轉載輯還違選郵鄭鏈鍵長門間閉聞閱隱頁顧頻題戶眾會與個時連結繫廣並"
    "區國際產業車動價錢標籤體愛樂歷畫檔應該項從這麼說裡後開見氣運導鬆讚頂無"
)
_SIMPLIFIED: Final = (
    "专为举习于们传储关兴内写击划则删别务华协参发号员图场声处备实审对属归当扩扫报摄权条来构欢点热现电监码类约经维"
    "编网联荐蓝观视订议讯记许论证评识译话请读责贴资转载辑还违选邮郑链键长门间闭闻阅隐页顾频题户众会与个时连结系广并"
    "区国际产业车动价钱标签体爱乐历画档应该项从这么说里后开见气运导松赞顶无"
)
_TO_SIMPLIFIED: Final = str.maketrans(_TRADITIONAL, _SIMPLIFIED)


def simplified(text: str) -> str:
    """Traditional characters of the words below written simplified, one for one (offsets hold).

    Hong Kong and Taiwan portals label the same sections (相關新聞, 延伸閱讀, 熱門, 責任編輯) in
    traditional script; the patterns here are written once, in simplified script, and read both.
    """
    return text.translate(_TO_SIMPLIFIED)


RELATED_HEADER_RE: Final = re.compile(
    r"^(?:相关(?:新闻|阅读|文章|链接|报道|推荐|资讯|专题|内容|话题|稿件|视频)?|延伸阅读|扩展阅读|拓展阅读|"
    r"更多(?:新闻|阅读|相关|精彩|文章|报道)|同类文章|本文相关|专题链接|"
    r"related(?: (?:articles?|stories|posts|news|content|coverage|reading|links|topics))?|"
    r"more (?:from|on|stories|news|coverage)\b.{0,30}|read (?:more|next|also)|see also|further reading|"
    r"more in\b.{0,30}|also read|keep reading)$",
    re.IGNORECASE,
)
RECOMMEND_HEADER_RE: Final = re.compile(
    r"^(?:今日好文推荐|好文推荐|推荐阅读|精彩推荐|热门推荐|热点推荐|为你推荐|为您推荐|猜你喜欢|猜您喜欢|"
    r"你可能(?:还)?(?:会)?(?:喜欢|感兴趣)|您可能(?:还)?(?:会)?(?:喜欢|感兴趣)|热门(?:文章|新闻|资讯|阅读|排行)?|"
    r"热点(?:新闻|文章|资讯)?|热文|热读|排行榜?|点击排行|阅读排行|新闻排行|往期(?:回顾|推荐|精选|文章)|"
    r"精选(?:文章|阅读)|推荐(?:文章|新闻|内容)?|最新(?:文章|新闻)|今日(?:推荐|热点)|编辑推荐|"
    r"recommended(?: for you| stories| reading| articles)?|popular(?: stories| now| posts| articles)?|"
    r"trending(?: now| stories)?|most (?:read|popular|viewed|shared|emailed)|you (?:may|might) also like|"
    r"editors'? picks|top stories|latest (?:news|stories))$",
    re.IGNORECASE,
)
REFERENCES_HEADER_RE: Final = re.compile(
    r"^(?:参考链接|参考连结|参考资料|参考文献|参考来源|参考|相关链接地址|references?|sources|links)$", re.IGNORECASE
)
INLINE_REFERENCE_RE: Final = re.compile(
    r"^(?:原文链接|原文地址|原文|参考链接|来源链接|Source)\s*[:：]\s*(https?://\S+)$"
)
URL_RE: Final = re.compile(r"^(?:\[?\d+\]?\s*)?(https?://\S+)$")
SHARE_RE: Final = re.compile(
    r"扫码|扫一扫|二维码|分享到|分享至|一键分享|微信扫|关注.{0,10}(?:公众号|微信|微博|我们)|长按(?:识别|扫描|二维码)|"
    r"点击(?:上方|下方|关注|蓝字)|^分享$|转发到|收藏本文|打印本页|关闭窗口|字号[:：]?\s*(?:大|T)|"
    r"\bshare (?:this|on|via|your|it with)\b|\bfollow (?:us|\w+ on)\b|^share$|^tweet$|^print$|^email$",
    re.IGNORECASE,
)
# Newsletter and app prompts: a sentence or two, so they may be longer than a share line.
PROMO_RE: Final = re.compile(
    r"订阅.{0,6}(?:邮件|资讯|日报)|下载.{0,6}客户端|\bsign up\b|\bnewsletters?\b|\bin your inbox\b|"
    r"\bbreaking news (?:emails|alerts)\b|\bsubscribe (?:to|now|for)\b|\bdownload (?:our|the) app\b|"
    r"\bdelivered (?:to you|weekday|daily|every)\b",
    re.IGNORECASE,
)
# Page furniture that is neither article nor a labelled block: ad markers, gallery controls,
# "continue reading" breaks, photo credits.
FURNITURE_RE: Final = re.compile(
    r"^(?:advert(?:isement)?|ad|sponsored(?: content)?|continue reading(?: below)?|story continues below|"
    r"(?:article )?continues below(?: advertisement)?|don'?t miss|most read.{0,30}|explore further|more:?|"
    r"caption|close|previous|next|enlarge this image|toggle caption|hide caption|"
    r"image \d+\s*of\s*/?\s*\d+|\d+\s*of\s*\d+|(?:photo|image|picture|illustration|graphic|video)s?"
    r"(?: credit)?\s*:.{0,80}|\(?(?:image|photo) credit:?.{0,80}\)?|credit:.{0,80}|"
    r"this (?:slideshow|video|content) requires javascript\.?|广告|相关视频|图片来源[:：].{0,30}|"
    r"[+＋]?\s*(?:已?关注|订阅)|"
    r"(?:\(|（)?(?:图|图片|摄影|图源)\s*[/:：|].{0,30}(?:\)|）)?)$",
    re.IGNORECASE,
)
# A link to a section's further pages ("更多>>", "More"), not to a person.
MORE_LINK_RE: Final = re.compile(r"更多|\bmore\b", re.IGNORECASE)
# A caption signs off with its picture credit: "… (Image: GETTY)", "…（图片来源：新华社）".
CAPTION_CREDIT_RE: Final = re.compile(
    r"[(（](?:image|photo|picture|pic|credit|图|图片|图片来源|摄影)s?\s*[:：/][^)）]{1,60}[)）]\s*$", re.IGNORECASE
)
ENGLISH_DATE_RE: Final = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{2}\b|"
    r"\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s+(?:19|20)\d{2}\b|"
    r"\b(?:published|updated|posted)\b.{0,40}\d",
    re.IGNORECASE,
)
FOOTER_RE: Final = re.compile(
    r"©|\(c\)\s*\d{4}|copyright|版权所有|all rights reserved|icp[备证]|联系我们|关于我们|隐私(?:政策|协议|条款|声明)|"
    r"privacy policy|terms of (?:use|service)|网站地图|广告服务|公网安备|违法和不良信息|举报(?:电话|邮箱)",
    re.IGNORECASE,
)
DISCLAIMER_RE: Final = re.compile(
    r"不代表.{0,16}(?:观点|立场|同意|证实)|仅供参考|免责声明|版权归.{0,12}所有|如(?:发现|有|涉及).{0,12}侵权|"
    r"侵权.{0,8}(?:删除|联系)|不构成(?:任何)?(?:投资)?建议|转载请注明|未经.{0,12}(?:授权|许可).{0,8}转载|"
    r"版权(?:属于|归属)|disclaimer|the views expressed|does not necessarily reflect|"
    # A platform's notice under a user's post ("特别声明：以上内容…由用户上传并发布，本平台仅提供信息存储服务").
    r"^(?:特别声明|特別聲明|郑重声明|鄭重聲明)\s*[:：]|仅提供信息存储(?:空间)?服务|僅提供信息存儲(?:空間)?服務|"
    r"(?:用户|用戶|作者).{0,6}(?:上传|上傳)并?(?:发布|發布)|uploaded and posted by a user|"
    r"only provides information storage",
    re.IGNORECASE,
)
COMMENTS_HEADER_RE: Final = re.compile(
    r"跟贴|跟帖|(?:网友|热门|最热|最新|全部|精彩|精选)(?:评论|留言)|(?:我要|发表|写|查看)(?:评论|留言)"
    r"|\d+\s*(?:条|则)(?:评论|留言)|评论\s*[(（]?\d+|\d+\s*人参与|^(?:评论|留言)$"
    r"|^(?:\d+\s+)?comments?(?:\s*\(\d+\))?$|^(?:leave|post|add) a (?:comment|reply)$",
    re.IGNORECASE,
)
"""A short line that opens a comment section: "跟贴 19 参与 206", "0条评论|0人参与网友评论", "最热评论"."""
NAV_RE: Final = re.compile(
    r"^(?:首页|当前位置|您的位置|你的位置|您现在的位置|位置|home)\s*[:：>›»/]|[>›»]\s*$", re.IGNORECASE
)
NAV_SEPARATOR_RE: Final = re.compile(r"\s[>›»]\s|[>›»]\s*\S+\s*[>›»]")
BYLINE_RE: Final = re.compile(
    r"^[（(【\[]?\s*(?:整理|作者|文|撰文|记者|本报记者|编译|翻译|译者|采写|撰稿|口述|出品|"
    r"特约撰稿人|通讯员)\s*[|｜丨:：/]\s*(.+?)\s*[）)】\]]?$"
)
_ENGLISH_NAME: Final = r"[A-Z][\w.'-]+(?:\s+[\w.'-]+){0,3}"
ENGLISH_BYLINE_RE: Final = re.compile(
    rf"^(?:[Bb]y|[Ww]ritten by|[Ww]ords by)\s+({_ENGLISH_NAME}(?:\s*(?:,|and)\s*{_ENGLISH_NAME})*)$"
)
EDITOR_RE: Final = re.compile(
    r"^[（(【\[]?\s*(?:责任编辑|责编|编辑|校对|审核|审校|值班编辑|实习编辑|美编|策划|监制|编审|图片编辑|"
    r"责任校对)\s*[|｜丨:：/]\s*\S.{0,30}?[）)】\]]?$"
)
SOURCE_RE: Final = re.compile(
    r"^[（(【\[]?\s*(?:来源|來源|稿源|出处|出處|source)\s*[:：]\s*(.+?)\s*[）)】\]]?$", re.IGNORECASE
)
SOURCE_IN_LINE_RE: Final = re.compile(r"(?:来源|來源|稿源)\s*[:：]\s*([^\s|｜丨,，]{1,30})")
AUTHOR_SPLIT_RE: Final = re.compile(r"\s*(?:[、,，/;；&]|\band\b|\s{2,})\s*")
