"""Chinese fixture texts for the near-duplicate tests (written for these tests), and their sanity checks.

``LIBRARY`` is an original article; ``library_copy`` republishes it the way an aggregator does
(byline, attribution, a touched-up sentence, a dropped one, a related-reading tail),
``library_excerpt`` keeps its first half with a "read the original" prompt. ``ASTRONOMY`` is an
unrelated article; ``TEMPLATE_A``/``TEMPLATE_B`` are short template news that share most of their
wording without being the same story.
"""

from __future__ import annotations

from portal_archive.dedup import normalize_text, prepare_text, shingle_hashes

LIBRARY = "\n".join(
    [
        "本市中心图书馆自下月起试行夜间开放，周一至周五的闭馆时间由晚上九点延长至午夜十二点。馆方表示，"
        "这一调整主要是为了满足附近高校学生和上班族的阅读需求。过去一年里，读者在留言簿上提出最多的建议就是延长开放时间。",
        "据介绍，夜间开放期间，一楼的自习区和二楼的期刊阅览室将全部开放，三楼的古籍部因需要专业人员值守，暂不纳入试行范围。"
        "为保证安全，图书馆将增加两名保安，并在主要通道加装照明设备。读者进入前需刷读者证，没有读者证的市民可以在自助机上用身份证免费办理。",
        "馆长李明远在接受采访时说，试行期为三个月，届时将根据入馆人数、能耗和读者反馈决定是否长期实行。他坦言，"
        "夜间开放会增加约百分之十五的运营成本，但如果每晚能有三百名以上的读者到馆，这笔投入就是值得的。",
        "不少读者对这一消息表示欢迎。在附近一家软件公司工作的王女士说，自己平时下班已经八点多，赶到图书馆只能待半个小时，"
        "现在终于可以安心看完一章书。大三学生陈同学则希望，夜间开放后馆内的饮水机和打印机也能同步运行。",
        "值得一提的是，图书馆还计划在夜间时段举办小型读书会，每周三晚上邀请本地作家与读者交流。首场活动将围绕城市记忆这一主题展开，"
        "报名通道已在图书馆官方网站开放，名额有限，先到先得。",
        "此外，图书馆将在夜间开放期间试行分区管理：靠窗的区域只允许阅读，不得使用电脑键盘；靠近电源的长桌则专供需要写作和编程的读者使用。"
        "工作人员会在每晚十点巡查一次，提醒读者保持安静。",
        "对于停车问题，馆方已与附近的商业中心达成协议，晚上九点以后持当日借阅凭条的读者可以免费停车两小时。"
        "公交公司也表示，将视客流情况考虑把途经图书馆的两条线路末班车延后半小时。",
        "业内人士指出，近年来全国已有二十多个城市的公共图书馆尝试延长开放时间，其中一些还推出了二十四小时自助借还服务。"
        "如何在控制成本的同时提升服务质量，是各地图书馆共同面对的课题。",
    ]
)

ASTRONOMY = "\n".join(
    [
        "在海拔一千八百米的青石村小学，每周四下午是孩子们最期待的天文课。这门课由一位退休的中学物理老师开设，"
        "他带来的两台旧望远镜，让许多孩子第一次看清了月球表面的环形山。",
        "老师说，山里夜空干净，几乎没有灯光干扰，是观测星空的好地方。可是孩子们以前只知道北斗七星像一把勺子，"
        "并不知道它能帮助人们辨认方向。如今，五年级的学生已经能够在星图上找到织女星和牛郎星，还能讲出它们背后的传说。",
        "为了让课程更系统，老师自己编写了一本二十页的讲义，从太阳系的八大行星讲到季节变化的原因。"
        "讲义里的插图都是他用彩色铅笔手绘的，孩子们传着看，书页边角已经磨得发白。",
        "去年冬天，学校组织了一次通宵观测活动，二十多个孩子裹着棉被坐在操场上，等待双子座流星雨。"
        "凌晨两点，第一颗明亮的流星划过天空，操场上响起一片欢呼。有个孩子在作文里写道，那一刻他觉得自己离宇宙很近。",
        "目前，当地教育部门正在考虑把这门课推广到周边几所学校，并计划为每所学校配备一台入门级望远镜。"
        "老师说，他最大的心愿是有一天能看到从这里走出去的孩子成为真正的天文学家。",
    ]
)

TEMPLATE_A = (
    "演员张一鸣加盟电视剧《山海之间》，将在剧中饰演一名年轻的地质工程师。据悉，该剧讲述了一支勘探队在西南山区"
    "寻找矿藏的故事，预计于明年春天在云南开机，拍摄周期约四个月。"
)
TEMPLATE_B = TEMPLATE_A.replace("张一鸣", "刘思远").replace("云南", "贵州")
"""Another actor, another province: J = 0.73, a copy by the long-text rule but not by the short one."""

ORIGINAL_URL = "https://citydaily.example.cn/news/2024/1001.html"
COPY_URL = "https://bendi.news/wxnews/c0123456789abcdefghijklmn"
EXCERPT_URL = "https://www.sohu.com/a/778899_121"
ASTRONOMY_URL = "https://citydaily.example.cn/news/2024/1002.html"
SOURCE_DOMAINS = {"城市晚报": "citydaily.example.cn"}


def library_copy() -> str:
    """An aggregator's republication of ``LIBRARY``: header, footer, an edit and a dropped sentence."""
    paragraphs = LIBRARY.split("\n")
    paragraphs[2] = paragraphs[2].replace("馆长李明远在接受采访时说", "馆长李明远日前在接受媒体采访时称")
    paragraphs[6] = paragraphs[6].split("。")[0] + "。"
    return "\n".join(
        [
            "整理 | 王小编",
            "来源：城市晚报",
            *paragraphs,
            "相关阅读：",
            "全市新增三座社区书房",
            "地铁末班车延时方案公布",
            "暑期少儿阅读计划启动",
            "责任编辑：张三",
        ]
    )


def library_excerpt() -> str:
    """The first half of ``LIBRARY`` and a prompt to read the rest on the original site."""
    paragraphs = LIBRARY.split("\n")
    return "\n".join([*paragraphs[:4], "点击“阅读原文”查看全文"])


def test_fixture_lengths_suit_the_copy_rule() -> None:
    assert len(normalize_text(LIBRARY)) > 600
    assert len(prepare_text(library_excerpt()).normalized) >= 300
    assert len(normalize_text(ASTRONOMY)) > 300
    assert 50 <= len(normalize_text(TEMPLATE_A)) < 300


def test_fixtures_are_unrelated_where_they_should_be() -> None:
    library = shingle_hashes(prepare_text(LIBRARY).codepoints)
    astronomy = shingle_hashes(prepare_text(ASTRONOMY).codepoints)
    assert len(set(library.tolist()) & set(astronomy.tolist())) < 10
