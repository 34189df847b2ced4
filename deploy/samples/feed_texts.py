"""Hand-written Chinese texts of the sample feed (calls and social posts), grouped by storyline.

Read by build_feed.py (see its docstring for the scenarios). Everything here is fictitious:
the platform 悦购 (App, PLUS membership, 悦购到家 same-day delivery), its own-brand 星耀
products, the carriers 顺达快运 / 云通速递 / 畅捷物流 / 飞鸿快递 / 疾风同城, and every person,
phone number, ID number, card number and e-mail address.

Clock times ("HH:MM:SS") are on 2026-01-05, Beijing time (+08:00). Each text carries our own
label: emotion, category, and a short English note.
"""

from __future__ import annotations

from typing import Any

# Hand-written prose and one call / post per block: long lines and manual layout on purpose.
# fmt: off

Line = dict[str, Any]


def C(clock: str, rate: float | None, emotion: str, category: str, text: str, note: str) -> Line:
    """A customer utterance."""
    return {"clock": clock, "speaker": "customer", "rate": rate, "emotion": emotion,
            "category": category, "text": text, "note": note}


def A(clock: str, category: str, text: str, note: str = "agent reply", emotion: str = "neutral") -> Line:
    """An agent utterance (the agent's side of the call)."""
    return {"clock": clock, "speaker": "agent", "rate": None, "emotion": emotion,
            "category": category, "text": text, "note": note}


def call(customer: str, agent: str, scenario: str, *lines: Line, order: str | None = None) -> dict[str, Any]:
    """One call: utterances that share a call id (assigned by the builder in start order)."""
    return {"customer": customer, "agent": agent, "scenario": scenario, "order": order,
            "segment": "utterance", "lines": list(lines)}


def transcript(clock: str, customer: str, agent: str, scenario: str, emotion: str, category: str,
               text: str, note: str, order: str | None = None) -> dict[str, Any]:
    """A whole call sent as one transcript event (multi-line)."""
    line = {"clock": clock, "speaker": "customer", "rate": None, "emotion": emotion,
            "category": category, "text": text, "note": note}
    return {"customer": customer, "agent": agent, "scenario": scenario, "order": order,
            "segment": "transcript", "lines": [line]}


def post(clock: str, platform: str, author: str, followers: int, emotion: str, category: str,
         scenario: str, text: str, note: str, **extra: Any) -> dict[str, Any]:
    """One social post; extra: reposts, comments, product, sku, batch, region, customer, order, url."""
    return {"clock": clock, "platform": platform, "author": author, "followers": followers,
            "emotion": emotion, "category": category, "scenario": scenario, "text": text,
            "note": note, **extra}


# The product batch of the surge, and other products.
X5 = {"product": "星耀X5手机", "sku": "SX5-128G", "batch": "B2511-07"}
X5_OK = {"product": "星耀X5手机", "sku": "SX5-256G", "batch": "B2510-02"}
WATCH = {"product": "星耀手表W2", "sku": "SW2-BLK"}
BUDS = {"product": "星耀TWS耳机Air3", "sku": "SA3-WHT"}
FRYER = {"product": "星耀空气炸锅AF5", "sku": "SAF5-5L"}
ROBOT = {"product": "星耀扫地机器人R7", "sku": "SR7-STD"}
PAD = {"product": "星耀Pad 11", "sku": "SP11-WIFI"}
GZ = "华南-广州"

# ---------------------------------------------------------------------------------------
# Repeat complainants: 3+ contacts within the 3 hours, across channels, escalating.
# ---------------------------------------------------------------------------------------

R = "repeat_complainant"

REPEAT_CALLS = [
    # cust-0012 王女士: a birthday present stuck in the Guangzhou delay wave (order is in the wave).
    call("cust-0012", "agent-107", R,
         C("10:04:10", 4.6, "anxiety", "logistics",
           "你好，麻烦帮我查一下快递。订单号YG260103558201，页面上写的是昨天下午六点前送达，到现在物流还停在广州白云转运中心，一整天都没动过。这是给我妈买的生日礼物，明天就要用，您帮我看看到底什么时候能到？",
           "1st contact: birthday present stuck at the Guangzhou hub; polite 您, worried"),
         A("10:04:52", "logistics",
           "王女士您好，我这边看到您的包裹目前在广州转运中心，承运商反馈那边分拣设备出了故障，件量有积压。我先帮您提交加急催件，有进展会第一时间短信通知您。"),
         C("10:05:30", 5.2, "anxiety", "logistics",
           "那大概要多久啊？明天中午之前能不能到？要是到不了，我得赶紧去商场再买一个了。",
           "asks when it will arrive; deadline pressure"),
         order="YG260103558201"),
    call("cust-0012", "agent-112", R,
         C("11:38:20", 7.4, "anger", "logistics",
           "我从昨天到现在已经打了三次电话了！第一次说帮我催，第二次说在处理，现在物流上写预计明天晚上十点才到？生日都过完了还送来干嘛！说好下午给我回电话，人呢？你们是不是就会拿话敷衍人？今天不给我退款，我就去12315投诉，微博我也已经发了！",
           "3rd contact: fast speech, 你们, 敷衍, threat 12315, refund demand"),
         A("11:39:05", "logistics",
           "王女士，非常抱歉让您一再来电，这件事是我们没有跟进到位。我现在就为您申请全额退款，包裹到了您直接拒收就行；另外按延误补偿给您发一张50元的券，并安排专属客服今天下午三点前给您回电确认，您看这样可以吗？",
           "agent: refund first, >48h delay compensation (50 元 + dedicated agent)"),
         C("11:39:50", 5.8, "helplessness", "logistics",
           "……行吧。退款今天能到账吗？我是真的不想再打第四次了。",
           "resigned; does not want to call a fourth time"),
         order="YG260103558201"),

    # cust-0027 李先生: 星耀X5 from batch B2511-07; calm at first, furious once the surge shows it is a batch fault.
    call("cust-0027", "agent-103", R,
         C("09:21:05", 4.1, "disappointment", "product_quality",
           "喂，你好。我上个月在你们这买的星耀X5，128G那款。最近一打游戏就发烫，拿在手上都有点烫手，充电的时候也烫。当初宣传页上写的是‘冰封散热’，我就是冲这个买的，跟说的不太一样啊。这个算正常吗？",
           "1st contact: phone overheats; gap to the advertised cooling"),
         A("09:21:48", "product_quality",
           "李先生您好，手机在玩大型游戏或者边充边用的时候温度会高一些，建议您先关掉后台应用、把系统更新到最新版本再观察两天。如果还是明显发烫，可以带上手机到就近的授权服务网点做个免费检测。"),
         C("09:22:20", 3.8, "neutral", "product_quality",
           "行，那我先升级试试，不行再说。",
           "accepts the advice, calm"),
         order="YG251121907713"),
    call("cust-0027", "agent-115", R,
         C("11:26:00", 7.8, "anger", "product_quality",
           "我又打来了，还是星耀X5的事。现在不光是发烫，上午自己重启了四五次，黑屏之后还充不进电。网上一搜，B2511-07这批全是这个毛病，你们早就知道了吧？还让我升级、让我去网点检测，检测什么？我要求直接退货退款，要是再跟我踢皮球，我就找律师，顺便把这事交给媒体曝光。",
           "3rd contact: batch defect confirmed online; threats 律师, 媒体曝光; very fast speech"),
         A("11:26:50", "product_quality",
           "李先生，特别理解您现在的心情，给您添了这么多麻烦，非常抱歉。您反映的情况我们已经按批次质量问题上报了，您这台可以直接办理退货退款，不用先检测，我现在就帮您登记，明天安排快递上门取件。",
           "agent: refund without inspection, batch escalated"),
         C("11:27:30", 6.1, "anger", "product_quality",
           "早这么说不就完了？上午我打过来的时候你们怎么不说？",
           "still angry: why not this morning"),
         order="YG251121907713"),

    # cust-0035 赵女士: air-fryer repair no-show; disappointment -> helplessness -> anger (post) -> apathy.
    call("cust-0035", "agent-101", R,
         C("09:16:30", 4.4, "disappointment", "after_sales",
           "您好，我家那个空气炸锅，买了还不到三个月，加热管不热了。上周在App上约了维修，说好的周六上午师傅上门，结果我在家等了一上午，人没来，电话也没有一个。想问一下是怎么回事。",
           "1st contact: repair technician never came (说好的), calm"),
         A("09:17:10", "after_sales",
           "赵女士您好，非常抱歉。我查到您的维修工单已经派给了天河区的服务网点，我这边马上联系网点核实情况，半小时内给您回电。",
           "agent: promises a call back within 30 min"),
         order="YG251014388260"),
    call("cust-0035", "agent-109", R,
         C("10:18:40", 5.6, "helplessness", "after_sales",
           "我又打来了，还是空气炸锅维修的事。早上说半小时回电，到现在一个多小时了也没人打给我。我自己打网点电话，网点说根本没收到工单，你们这边又说派过去了。那到底是谁的问题？我都不知道该找谁了。",
           "2nd contact: promised call back never came; bounced between hotline and repair shop"),
         A("10:19:20", "after_sales",
           "您先别着急，我把您的情况加急转给售后主管了，今天之内一定给您一个准确答复。"),
         order="YG251014388260"),
    call("cust-0035", "agent-104", R,
         C("11:52:10", 3.2, "apathy", "after_sales",
           "这是我今天第三次打了。算了，我也不想再等了，不用修了，直接给我退款吧。以后电器我不会再在你们这儿买了。",
           "3rd call: withdrawal (算了, 不会再买); slow flat speech"),
         A("11:52:45", "after_sales",
           "赵女士，真的很抱歉让您反复折腾。退款我现在就给您办，24小时内原路退回。另外我会请售后主管下周给您回个电话，看看后面还有什么能帮您的。",
           "agent: refund + follow-up call next week"),
         order="YG251014388260"),

    # cust-0041 陈先生: PLUS membership double charge; anger -> disappointment (post) -> apathy, then silence in activity.
    call("cust-0041", "agent-106", R,
         C("09:33:15", 6.6, "anger", "price",
           "你好，我刚查了银行卡流水，你们PLUS会员这个月扣了我两次198！我根本没开过什么自动续费，谁给我开的？不声不响就扣钱，这不就是骗钱吗？",
           "1st contact: charged twice for membership; 骗钱"),
         A("09:33:58", "price",
           "陈先生您好，我帮您查一下。您的账号是去年12月参加会员活动的时候勾选了连续包年，这个月系统重复扣款的那一笔，我们会在3到5个工作日内原路退回给您。"),
         C("09:34:30", 6.0, "anger", "price",
           "勾选？那个框是默认勾上的，字小得跟蚂蚁一样，谁看得见？你们这就是故意的。",
           "pre-ticked box; distancing 你们"),
         ),
    call("cust-0041", "agent-111", R,
         C("11:05:40", 3.4, "apathy", "price",
           "我再打一次，也没别的事。PLUS会员帮我取消吧，自动续费也关掉，以后不续了。退款到账就行，别的无所谓了。App我已经卸载了。",
           "3rd contact: cancels membership, 无所谓, uninstalled the app (churn)"),
         A("11:06:10", "price",
           "好的陈先生，已经帮您关闭自动续费，会员权益会保留到本期结束。给您带来不好的体验我们非常抱歉，重复扣的款项退回后会有短信提醒。"),
         ),
]

REPEAT_POSTS = [
    post("10:52:40", "weibo", "珠江边的王小姐", 860, "helplessness", "logistics", R,
         "在悦购买的东西，顺达快运在广州转运中心躺了两天了，物流信息一动不动。打客服说帮我催，催完就没下文了，说好下午跟进也没人打给我。问快递说找商家，问商家说等快递，推来推去，到底有没有人管啊？？",
         "2nd contact of cust-0012, on weibo: 推来推去, 没人管",
         reposts=12, comments=37, region=GZ, customer="cust-0012", order="YG260103558201"),
    post("10:41:30", "xiaohongshu", "阿哲的日常", 1460, "anger", "product_quality", R,
         "姐妹们兄弟们，星耀X5千万别冲！！我这台用了一个多月，今天刷着视频直接黑屏，然后自己重启，开机之后烫得跟暖宝宝一样。早上客服让我关后台、升级系统，全照做了，屁用没有😤 翻了下评论区，同一批B2511-07的好多人都这样，这摆明了是批量问题吧？",
         "2nd contact of cust-0027, inside the batch surge",
         reposts=58, comments=203, region="华东-上海", customer="cust-0027", order="YG251121907713", **X5),
    post("11:12:15", "weibo", "赵小厨的厨房", 2350, "anger", "after_sales", R,
         "悦购的售后也是绝了。空气炸锅坏了约维修，师傅放鸽子；客服说单派了，网点说没收到；说半小时回电，一个半小时过去了，连个电话都没有。客服说话倒是挺客气的，就是什么事都不办，纯纯敷衍。差评，必须差评。",
         "cust-0035 goes public: 敷衍, 差评",
         reposts=31, comments=88, region=GZ, customer="cust-0035", **FRYER),
    post("10:27:50", "wechat", "陈工", 320, "disappointment", "price", R,
         "本来觉得悦购PLUS挺划算的，一直推荐给身边朋友。结果默认给我勾了连续包年，这个月还重复扣了两次款。客服说3到5个工作日退，行吧。提醒大家都去‘我的-设置-自动续费’里看一眼，别跟我一样被扣了都不知道。",
         "cust-0041 between calls: trust broken, warns friends",
         reposts=4, comments=15, customer="cust-0041"),
]

# ---------------------------------------------------------------------------------------
# Logistics delay wave: customers of delayed 顺达快运 orders to 华南-广州 get in touch.
# ---------------------------------------------------------------------------------------

W = "delay_wave"

WAVE_CALLS = [
    call("cust-0203", "agent-108", W,
         C("10:15:20", 5.4, "anxiety", "logistics",
           "你好，我买的奶粉，订单号YG260102771034，物流上突然显示‘异常’，也没说是什么异常。孩子的奶粉就剩两天的量了，你们能不能帮我问问到底怎么回事，什么时候能送到？我真的很着急。",
           "exception status on baby formula; urgent"),
         A("10:16:00", "logistics",
           "您好，承运商反馈您的包裹外包装在转运中破损了，正在核实里面的商品有没有受影响。如果商品有损坏，我们会优先给您补发，我这边先帮您备注加急。"),
         order="YG260102771034"),
    call("cust-0205", "agent-105", W,
         C("10:25:35", 3.6, "neutral", "logistics",
           "您好，麻烦帮我看一下订单YG260103140562，显示延误，是不是广州那边有什么情况？我不着急用，就是想知道大概哪天能到。",
           "calm inquiry about a delayed order"),
         A("10:26:10", "logistics",
           "您好，广州转运中心今天分拣设备故障，部分包裹有积压，您的包裹预计今天中午前后送到，给您带来不便非常抱歉。"),
         order="YG260103140562"),
    call("cust-0212", "agent-113", W,
         C("10:40:15", 5.0, "anxiety", "logistics",
           "快递说我电话打不通？我电话一直开着的，13912345678，你们看看是不是号码录错了。我今天一直在家，赶紧给我送过来吧。",
           "exception 'phone unreachable'; customer reads out her mobile number (PII)"),
         order="YG260103466820"),
    call("cust-0220", "agent-114", W,
         C("10:47:10", 7.0, "anger", "logistics",
           "我今天特意请了半天假在家等快递，上午等了两个多小时，结果就等来一条短信说‘延误’？早干嘛去了！你们的短信就不能早点发吗？我这半天假算谁的？",
           "waited 2+ hours at home, angry at the late notice"),
         order="YG260104117625"),
    call("cust-0211", "agent-102", W,
         C("10:58:30", 7.2, "anger", "logistics",
           "你们跟我说包裹丢了？！一千多块钱的耳机说丢就丢了？丢了也不主动通知，还是我自己查物流才看到写着‘遗失’两个字。你们必须给我个说法，钱全额退给我，不然我就去投诉！",
           "lost parcel discovered by the customer; threat 投诉"),
         A("10:59:10", "logistics",
           "先生您好，非常抱歉，包裹确实在转运环节遗失了，这是我们和承运商的责任。我马上为您办理全额退款，也可以按原价给您重新补发，今天就发出，您看您更倾向哪一种？",
           "agent: owns the fault, refund or reship"),
         C("10:59:50", 5.9, "neutral", "logistics",
           "补发吧。但是这次别再走顺达了，换一家。",
           "accepts the reship, asks for another carrier"),
         order="YG260104213377"),
    call("cust-0218", "agent-110", W,
         C("11:40:05", 4.5, "anxiety", "logistics",
           "喂您好，我那个订单还是显示延误，上面写预计后天到，可我后天一早就要出差了。能不能帮我改个地址送到公司，或者我自己去网点取也行，就是别让它再在路上耗着了。",
           "delayed 46 h, asks for an address change before a trip"),
         order="YG260104028856"),
    call("cust-0225", "agent-103", W,
         C("11:44:00", 3.9, "positive", "logistics",
           "喂，你好，我就是打来说一声，包裹刚刚送到了。虽然晚了大半天，但是你们客服早上主动打电话跟我说明情况，还补了张券，这点做得挺好的，谢谢啊。",
           "delivered after the delay; praise for proactive contact (虽然…但是 trap)"),
         order="YG260103846217"),
]

WAVE_TRANSCRIPTS = [
    transcript("11:02:00", "cust-0216", "agent-116", W, "anxiety", "logistics",
               "客户：喂，你好，我想问一下我的快递，订单号YG260103375198，显示延误了。\n"
               "客服：您好，请稍等，我帮您查询一下。\n"
               "客户：我这个是公司年会的奖品，后天就要用，现在上面写预计明天晚上到，到底靠不靠谱啊？\n"
               "客服：您的包裹目前在广州白云转运中心，那边分拣设备出了故障，积压比较多，承运商给的预计时间是明天晚上。\n"
               "客户：那万一明天晚上还到不了呢？你们能保证吗？我这边几十个人等着呢。\n"
               "客服：理解您的着急。我这边给您的订单加了重点跟踪，明天中午如果还没有进入派送，我们直接从深圳仓给您重新发一份，走同城加急。\n"
               "客户：行，那你们一定记得，别到时候又说忘了。\n"
               "客服：好的，我已经备注在工单里了，明天中午会主动给您打电话。",
               "whole-call transcript: prizes for an event, worried about the new ETA",
               order="YG260103375198"),
]

WAVE_POSTS = [
    post("10:28:10", "weibo", "天河上班族", 310, "helplessness", "logistics", W,
         "顺达的广州网点电话020-86681234打了半天都没人接。包裹在转运中心卡了两天，今天一早突然变成‘异常’，到底是丢了还是怎么了，总得给句话吧。",
         "exception parcel, nobody answers the depot landline (PII landline)",
         reposts=3, comments=9, region=GZ, customer="cust-0219", order="YG260102987410"),
    post("10:33:05", "douyin", "羊城阿May", 4800, "anxiety", "logistics", W,
         "广州的朋友们，你们在悦购买的东西是不是也卡住了？我的件前天就显示‘运输中’，今天直接变成‘延误’，预计送达时间往后推了两天。问客服就一句‘请您耐心等待’🙂 年货还等着用呢，急死了",
         "delay reported by a local creator; waiting anxiety",
         reposts=66, comments=241, region=GZ, customer="cust-0207", order="YG260103902217"),
    post("10:55:20", "douyin", "番禺阿强", 1500, "anxiety", "logistics", W,
         "顺达快运广州这边是不是瘫痪了？办公室四个人的件全卡在白云转运中心，有一个已经卡了三天了。",
         "several colleagues affected; no customer link",
         reposts=18, comments=72, region=GZ),
    post("11:15:45", "weibo", "海珠区小透明", 90, "anxiety", "logistics", W,
         "物流慢我能理解，可你们好歹告诉我一声吧，不能让我天天刷物流猜啊。",
         "wants information, not excuses",
         comments=2, region=GZ),
    post("11:20:30", "weibo", "小鱼干不吃鱼", 690, "helplessness", "logistics", W,
         "顺达的客服电话打了二十多遍，不是占线就是排队，排了四十分钟好不容易接通，说这个要找发货方处理。发货方是悦购，悦购又让我找快递。我就想知道我的东西到底在哪儿，怎么就这么难？",
         "bounced between carrier and platform",
         reposts=23, comments=54, region=GZ, customer="cust-0214", order="YG260102659043"),
    post("11:33:00", "weibo", "广州生活圈", 1280000, "helplessness", "logistics", W,
         "【集合】这两天后台收到上百条私信，都是在悦购下单、走顺达快运发往广州的包裹大面积延误，有的显示‘异常’，有的直接‘丢件’。客服只会复制粘贴‘请耐心等待’，平台和快递互相推，到底谁来负责？有同样情况的评论区留言，我们整理好统一反映给12315。",
         "viral local account collects cases; mentions 12315",
         reposts=3260, comments=5410, region=GZ, url="https://social.example/weibo/gzshenghuoquan/5102"),
    post("11:48:20", "xiaohongshu", "Cici在广州", 9700, "disappointment", "logistics", W,
         "说好的次日达，结果次日没到，今天还在广州转圈圈。下单页面上大大的‘次日达’三个字，现在就发我一张10块钱的券？不是差这十块钱，是这体验真的让人挺失望的。",
         "promise gap (说好的次日达); received the <24 h coupon",
         reposts=140, comments=386, region=GZ, customer="cust-0222", order="YG260103720964"),
    post("11:56:30", "xiaohongshu", "Yuki在广州", 3900, "positive", "logistics", W,
         "终于收到了！晚了一天多，客服主动联系补了20块的券，态度挺好的。就是希望下次别再这样了🙏",
         "delivered after a 24-48 h delay; coupon and proactive contact appreciated",
         reposts=6, comments=41, region=GZ, customer="cust-0224", order="YG260103208451"),
]

# ---------------------------------------------------------------------------------------
# Product batch surge: 星耀X5手机 / SX5-128G / B2511-07, concentrated 10:30-11:00.
# ---------------------------------------------------------------------------------------

S = "batch_surge"

SURGE_CALLS = [
    call("cust-0301", "agent-104", S,
         C("10:32:20", 7.2, "anger", "product_quality",
           "你们这个星耀X5到底怎么回事？我早上起来手机烫得跟烙铁一样，屏幕全黑，现在开都开不了机！里面全是工作资料，耽误了事谁负责？",
           "hot, black screen, won't boot"),
         ),
    call("cust-0302", "agent-117", S,
         C("10:36:40", 5.0, "anxiety", "product_quality",
           "你好，我的星耀X5从昨天开始老是自己重启，重启完还特别烫。我有点担心，这个会不会有爆炸的危险啊？我是不是先别用了？",
           "safety worry about reboot + heat"),
         ),
    call("cust-0303", "agent-118", S,
         C("10:44:05", 4.0, "disappointment", "product_quality",
           "我是看了你们直播间说星耀X5散热特别好才买的，现在玩十分钟游戏就烫，还黑屏过两次。跟主播说的完全不一样，挺失望的。",
           "bought because of the livestream promise"),
         ),
    call("cust-0304", "agent-119", S,
         C("10:48:30", 5.5, "helplessness", "after_sales",
           "星耀X5充不进电，换了三根线、两个充电头都不行。售后网点说要寄回厂家，客服又说让我去网点，我到底该找谁？",
           "won't charge; sent back and forth"),
         ),
    call("cust-0305", "agent-120", S,
         C("10:52:15", 7.6, "anger", "product_quality",
           "第二台星耀X5了！换的新机又是黑屏重启！你们是不是把同一批次的次品又发给我了？今天不给我退，我就打12315！",
           "replacement unit has the same defect; threat 12315"),
         A("10:53:00", "product_quality",
           "非常抱歉给您带来这么多麻烦。您这台也是B2511-07批次，我们已经收到多起同类反馈并上报了，这边直接为您办理退货退款，不需要再检测，上门取件时间您看明天上午可以吗？",
           "agent: batch recognised, refund without inspection"),
         ),
    call("cust-0306", "agent-101", S,
         C("10:56:40", 3.1, "apathy", "product_quality",
           "星耀X5，自动重启，充不进电。我不想说了，你们直接给我办退货吧，退完这个账号我也注销了。",
           "withdrawn: 不想说了, will close the account"),
         ),
    call("cust-0425", "agent-111", S,
         C("11:48:30", 4.0, "neutral", "product_quality",
           "你好，我看新闻说星耀X5有一批有问题，我怎么查自己的手机是不是那一批的？",
           "after the surge: how to check my batch"),
         A("11:49:00", "product_quality",
           "您好，您可以在手机‘设置-关于手机-批次信息’里查看，如果显示B2511-07，可以直接联系我们办理检测或退换，我们会优先处理。"),
         ),
]

SURGE_POSTS = [
    post("09:50:10", "douyin", "数码小白兔", 640, "disappointment", "product_quality", S,
         "星耀X5用了半个多月，打游戏的时候有点烫，其他倒还行，先观望一下。",
         "early, mild signal before the surge", comments=3, **X5),
    post("10:31:05", "weibo", "数码区小王", 3400, "anxiety", "product_quality", S,
         "星耀X5是不是有毛病啊，充着电就烫得不行，屏幕直接黑了，按电源键没反应，过了一会儿又自己重启了。十一月底买的，才用一个多月。会不会有安全隐患啊，有点慌。",
         "heat + black screen + reboot; safety worry", reposts=21, comments=64, region="华北-北京", **X5),
    post("10:33:50", "douyin", "阿杰的数码日常", 58000, "disappointment", "product_quality", S,
         "刚拆的星耀X5，开相机录了十分钟视频，后盖温度直接飙到四十七度，然后黑屏重启。宣传的冰封散热呢？？就这？",
         "advertised cooling vs reality (宣传)", reposts=420, comments=1350, **X5),
    post("10:35:30", "xiaohongshu", "是小鹿呀", 1200, "anger", "product_quality", S,
         "救命，我的星耀X5今天自动重启了八次！！聊着微信突然黑屏，再开机又烫手，重要的聊天记录差点没了，气死我了",
         "8 reboots today; 气死", reposts=15, comments=98, region="华东-杭州", **X5),
    post("10:37:15", "zhihu", "硬件老炮", 26000, "neutral", "product_quality", S,
         "说点技术层面的：看了几位网友晒的序列号，出问题的星耀X5集中在B2511-07这一批，现象都是高温→黑屏→自动重启，部分充不进电。比较像电源管理或者电池批次的问题，不太像软件。建议同批次的先别长时间边充边玩。",
         "analytical answer naming the batch; informative, not emotional", reposts=88, comments=310, **X5),
    post("10:38:40", "weibo", "蓝色小熊饼干", 540, "helplessness", "product_quality", S,
         "家人们谁懂啊，星耀X5充电充了一晚上，早上起来电量还是百分之十几，插着线都充不进去。售后电话打了半天没人接，我是真不知道找谁了。",
         "won't charge; nobody answers", reposts=2, comments=27, region="华中-武汉", **X5),
    post("10:40:05", "bilibili", "机械师阿彬", 310000, "anger", "product_quality", S,
         "【实测】星耀X5 B2511-07批次发热黑屏问题复现，三台机器两台中招，视频已上传。厂家要是还装死，这期视频我就一直挂着不删了。",
         "high-reach creator reproduces the defect; public pressure", reposts=2100, comments=4600, **X5),
    post("10:43:20", "douyin", "广州打工人小陈", 90, "anxiety", "product_quality", S,
         "买了不到一个月，今天开会的时候手机在兜里烫得我一激灵，拿出来一看黑屏了，怎么按都没反应😭 要不是看到评论区，我还以为是我自己摔坏的",
         "hot in pocket, dead screen", comments=5, region=GZ, **X5),
    post("10:45:10", "weibo", "今天也要加油鸭", 2100, "anger", "product_quality", S,
         "星耀X5这质量是认真的吗？？？刚过七天无理由，就开始疯狂重启，客服让我去售后检测，售后排队要等一周。你们骗完钱就不管了是吧",
         "just past the 7-day return window; 骗", reposts=37, comments=150, region="华东-上海", **X5),
    post("10:47:35", "wechat", "老周", 45, "apathy", "product_quality", S,
         "在朋友群里问了一圈，三个人买的星耀X5都有发热重启的毛病，都是十一月那批。算了，我直接退了，换别的牌子。",
         "gives up on the brand (算了)", **X5),
    post("10:49:00", "zhihu", "冲着续航买的", 130, "disappointment", "product_quality", S,
         "本来是冲着续航买的星耀X5，结果现在充不进电，续航再好有什么用。跟宣传的差太远了，很失望。",
         "bought for battery life, now won't charge", comments=11, **X5),
    post("10:51:20", "weibo", "科技圈吃瓜君", 2000000, "anger", "product_quality", S,
         "#星耀X5发热黑屏# 多位网友反映星耀X5手机（批次B2511-07）出现严重发热、黑屏、自动重启、充不进电等问题，有博主实测三台两台复现。出了问题客服就让升级系统、去网点排队，官方到现在一句回应都没有。这么大的品牌就这么对待消费者？",
         "viral hashtag post (2M followers) with the batch named",
         reposts=8600, comments=12000, url="https://social.example/weibo/chiguajun/7781", **X5),
    post("10:53:10", "douyin", "宝妈日记", 12000, "anxiety", "product_quality", S,
         "给孩子上网课买的星耀X5，上着课突然黑屏，孩子急得直哭。打客服排了半小时队，说要寄回检测，来回至少半个月，这半个月孩子用什么上课？",
         "child's online class interrupted", reposts=230, comments=870, region="西南-成都", **X5),
    post("10:55:05", "xiaohongshu", "momo不吃香菜", 3300, "anger", "product_quality", S,
         "避雷星耀X5‼️发热+黑屏+自动重启三件套全中，客服还一直跟我说是正常现象，正常你个头啊🙄 已经申请退货，差评走起",
         "warns others (避雷), 差评", reposts=76, comments=295, **X5),
    post("10:57:25", "weibo", "程序员老K", 870, "helplessness", "after_sales", S,
         "同B2511-07，昨晚充了一晚上电，早上电量反而掉到5%，插什么充电器都没用。找售后说要先排查软件问题，让我恢复出厂设置……数据谁给我备份？",
         "after-sales asks for a factory reset", comments=19, region="华北-北京", **X5),
    post("10:58:40", "other", "消费维权平台用户", 10, "anger", "after_sales", S,
         "投诉对象：悦购。投诉要求：退货退款。问题：星耀X5手机（批次B2511-07）收到一个月频繁自动重启、充不进电，多次联系客服未解决，要求无条件退货并赔偿。",
         "formal complaint on a consumer-rights platform", **X5),
    post("10:59:30", "bilibili", "吃土少年", 25, "apathy", "product_quality", S,
         "三台里两台中招，up说的是真的，我也是这一批，每天重启好几次，已经懒得折腾了。",
         "comment under the test video; resigned", **X5),
    post("11:03:15", "weibo", "小王同学在加班", 480, "helplessness", "communication", S,
         "@悦购客服 私信三天不回，情况我已经发到你们邮箱了，也可以直接联系我 wangxiaoming.test@example.com。星耀X5黑屏重启这事拖了一周了，到底有没有人管？",
         "no reply to DMs; leaves an e-mail address (PII)", comments=4, **X5),
    post("11:10:50", "weibo", "悦购用户7742", 10, "anxiety", "product_quality", S,
         "我的星耀X5也是，今天早上重启了三次，里面好多照片还没备份。",
         "tail of the surge; worried about photos", **X5),
    post("11:36:40", "douyin", "夜猫子", 120, "apathy", "product_quality", S,
         "B2511-07+1，充不进电，已退。再也不买星耀了。",
         "再也不 — leaves the brand", **X5),
    post("11:45:30", "douyin", "阿Ken的日常", 2300, "positive", "product_quality", S,
         "看到热搜吓一跳，赶紧查了下，我的是B2510-02，不是那一批。用了两个多月，一次重启都没遇到过，拍照挺好的。",
         "other batch: no problem (contrast for the surge detector)", comments=33, **X5_OK),
    post("11:52:15", "zhihu", "产品经理Amy", 8800, "neutral", "product_quality", S,
         "从用户角度聊聊这次星耀X5的批次问题：一是问题集中在单一批次，早发现早召回，比捂着强；二是客服口径要统一，别一个让升级一个让检测；三是对已经受影响的用户，退换之外最好有点诚意补偿。",
         "reflective analysis; neutral", reposts=45, comments=120, **X5),
]

# ---------------------------------------------------------------------------------------
# Scorer traps: negation, contrast, sarcasm, literal words that carry no sentiment.
# ---------------------------------------------------------------------------------------

T = "scorer_trap"

TRAP_CALLS = [
    call("cust-0428", "agent-101", T,
         C("09:51:00", 3.6, "disappointment", "service_process",
           "我不是不满意你们的东西，东西是挺好的，就是觉得退个货太麻烦了，前前后后填了三张单子。",
           "negation trap: 不是不满意 (still a mild complaint)"),
         ),
    call("cust-0429", "agent-109", T,
         C("11:17:20", 5.1, "helplessness", "after_sales",
           "虽然你们客服态度都挺好的，但是问题到现在都没解决，这已经是第四次打过来了。每次都说‘帮您反馈’，反馈到哪儿去了？",
           "contrast trap: polite staff, problem unresolved; 4th call"),
         ),
]

TRAP_POSTS = [
    post("09:45:20", "zhihu", "理性消费者", 12000, "disappointment", "service_process", T,
         "说句公道话：悦购的东西不能说不好，价格也不算贵，但是售后流程真的太绕了，退个货要在三个页面之间来回跳。",
         "negation + contrast: 不能说不好…但是", reposts=24, comments=66),
    post("10:10:35", "dianping", "吃货小分队", 1100, "disappointment", "service_process", T,
         "下午茶在悦购到家点了六杯热拿铁，结果全送错了，要的热的给的冰的，这大冬天的……办公室一圈人对着冰咖啡沉默了🙂",
         "wrong order: 热 / 冰 are not sentiment words", comments=12, region="华东-上海"),
    post("10:44:30", "weibo", "打工人阿May", 380, "anger", "logistics", T,
         "悦购到家说好的30分钟送达，等了2个多小时也是醉了，骑手电话还打不通，饭到手都凉透了。",
         "sarcasm: 也是醉了", comments=6, region="华北-北京"),
    post("11:10:15", "xiaohongshu", "小满的生活碎片", 5600, "positive", "logistics", T,
         "本来以为这么冷的天网购快递得拖好几天，结果还不错，前天下单昨天就到了，包装也很严实，零下的天气面霜一点没冻坏👍",
         "expectation reversal: 本来以为很差，结果还不错", reposts=9, comments=58, region="华北-北京"),
    post("11:25:05", "weibo", "阿福吐槽中", 1700, "anger", "communication", T,
         "感谢悦购，让我在三天之内学会了和五个客服讲同一个故事，语言表达能力突飞猛进👏👏",
         "sarcasm: praise words, negative meaning", reposts=56, comments=140),
    post("10:52:50", "xiaohongshu", "Vivi爱买菜", 890, "disappointment", "price", T,
         "悦购到家的运费门槛悄悄从满19涨到满39了。不是不满意，就是觉得没以前划算了，最近都去别家买菜了。",
         "negation trap: 不是不满意; quiet churn to a competitor", comments=21, region="华东-上海"),
    post("11:41:10", "weibo", "北方的狼", 650, "anger", "logistics", T,
         "好家伙，悦购这服务真是‘好’到家了，下单一周还没发货，客服说‘仓库在努力’。",
         "sarcasm in quotes", comments=8, region="华北-北京"),
]

# ---------------------------------------------------------------------------------------
# Personal data (for masking) and look-alike numbers that must NOT be masked.
# ID 110105198806151238 and 440106199003071231 have valid checksums; 44010619850612301X does
# not (its check digit would be 9). Cards 6222021234567890128 and 6217000012345678907 pass Luhn.
# ---------------------------------------------------------------------------------------

P = "pii_masking"

PII_CALLS = [
    call("cust-0430", "agent-106", P,
         C("09:20:40", 4.3, "neutral", "other",
           "你好，我想把账号绑定的手机号改一下，原来的13800138000不用了，新号是15900001234，现在登录收不到验证码。",
           "PII: two mobile numbers"),
         ),
    call("cust-0404", "agent-105", P,
         C("09:25:00", 4.2, "neutral", "other",
           "您好，我们是公司采购，上个月在你们企业购买了二十台星耀Pad，现在需要开增值税专用发票。麻烦开好以后联系我们行政，座机010-65521234，白天都有人。",
           "PII: Beijing landline; invoice request"),
         ),
    call("cust-0427", "agent-113", P,
         C("11:24:00", 4.2, "neutral", "logistics",
           "您好，我想改一下收货地址，包裹还没派送，能改吗？",
           "address change request"),
         A("11:24:30", "logistics",
           "可以的，包裹还在上海转运中心，我这边帮您提交改址，请问改到哪里？"),
         C("11:25:05", 4.0, "neutral", "logistics",
           "改到公司，浦东新区张江路那边，收件人李四，电话18612340000。",
           "PII: mobile number and a name"),
         order="YG260104591736"),
    call("cust-0431", "agent-110", P,
         C("10:06:30", 4.5, "neutral", "after_sales",
           "我那台净水器退货已经寄回去了，原来的信用卡注销了，退款麻烦退到我这张储蓄卡上，6217 0000 1234 5678 907。",
           "PII: bank card (Luhn-valid) written with spaces"),
         ),
    call("cust-0432", "agent-112", P,
         C("10:42:10", 3.8, "neutral", "price",
           "以旧换新要登记身份证是吧？我叫李小四，身份证号440106199003071231，旧手机是星耀X3。",
           "PII: valid 18-digit ID number"),
         ),
    call("cust-0421", "agent-107", P,
         C("11:30:30", 3.8, "neutral", "other",
           "你好，发票抬头开错了，能不能作废重开一张？重开好了直接发到我邮箱 lisi_2026@example.com 就行。",
           "PII: e-mail address"),
         A("11:31:00", "other",
           "可以的，我这边已经帮您提交换开申请，一般24小时内重新开好，会发送到您留的邮箱。"),
         ),
    # Look-alikes (traps for the masker).
    call("cust-0433", "agent-118", P,
         C("09:44:50", 5.6, "helplessness", "service_process",
           "实名认证一直过不去，我填的身份证号是44010619850612301X，系统一直说格式不对，我对着身份证看了好几遍都没填错啊，这让我怎么弄？",
           "trap: 18-digit ID with a WRONG checksum (not a valid ID)"),
         ),
    call("cust-0434", "agent-116", P,
         C("10:09:00", 4.1, "neutral", "logistics",
           "你好，帮我查个件，订单号是2026010415923456781，飞鸿的运单号10352867412，一直显示已揽收。",
           "trap: 19-digit order number containing a phone-like run; 11 digits starting 10"),
         ),
]

PII_POSTS = [
    post("10:30:40", "weibo", "北漂小周", 330, "anxiety", "logistics", P,
         "快递员电话13712345678一直关机，包裹显示‘已签收’，可我根本没收到，问驿站也说没有。",
         "PII: courier's mobile number in a post", comments=7, region="华北-北京"),
    post("11:08:25", "weibo", "较真的老孙", 260, "anger", "communication", P,
         "订单号52013140099都发给客服八百遍了，每次都问我要订单号，你们的系统是记不住还是不想记？",
         "trap: 11-digit order number starting with 5 (not a phone)", comments=11),
]

TRANSCRIPT_PII = [
    transcript("11:08:00", "cust-0418", "agent-104", P, "neutral", "service_process",
               "客服：您好，这里是悦购客服，请问有什么可以帮您？\n"
               "客户：你好，我那个分期订单退款退不到原来的卡上，说原卡已经注销了。\n"
               "客服：好的，原卡注销的话，需要核实身份以后退到您本人的其他银行卡。请问您的姓名和身份证号？\n"
               "客户：张三丰，身份证号110105198806151238。\n"
               "客服：好的，核实通过了。请问要退到哪张卡？\n"
               "客户：工商银行的，卡号6222021234567890128。\n"
               "客服：收到，已经为您提交了变更退款账户的申请，1到3个工作日内处理完毕，结果会短信通知您预留的手机。\n"
               "客户：行，那麻烦你们尽快。",
               "PII: valid ID number and Luhn-valid card in a refund-account change"),
]

# ---------------------------------------------------------------------------------------
# Background: everyday calls and posts across all categories and intensities.
# ---------------------------------------------------------------------------------------

B = "background"

BACKGROUND_CALLS = [
    call("cust-0401", "agent-101", B,
         C("09:03:20", 3.9, "neutral", "logistics",
           "您好，我想查一下我上周五买的电饭煲发货了没有，订单号YG260102330918。",
           "routine order-status inquiry"),
         A("09:03:50", "logistics",
           "您好，您的订单已经在昨天下午从上海仓发出了，承运商是云通速递，预计明天送达，物流信息您可以在App订单详情里实时查看。"),
         C("09:04:15", 3.6, "positive", "logistics",
           "好的好的，那就放心了，谢谢您啊。",
           "thanks the agent"),
         order="YG260102330918"),
    call("cust-0402", "agent-102", B,
         C("09:08:00", 6.8, "anger", "service_attitude",
           "我昨天下午打过来，你们一个工号0815的客服，我话还没说完她就直接把电话挂了！什么态度？我是来解决问题的，不是来受气的！",
           "agent hung up on him yesterday; second contact"),
         A("09:08:40", "service_attitude",
           "先生您好，非常抱歉给您带来这么不好的感受。这个情况我会如实记录并反馈给质检部门核查。您昨天要处理的是什么问题，我现在接着帮您办。",
           "agent apologises, takes over"),
         C("09:09:20", 5.5, "anger", "service_process",
           "就是换货的事，昨天要是好好说五分钟就办完了，非得让我再打一次。",
           "residual annoyance"),
         ),
    call("cust-0403", "agent-104", B,
         C("09:12:30", 5.0, "helplessness", "service_process",
           "我想退个货，App里点了申请退货，要上传照片，我传了三次都提示‘上传失败’。打电话问，客服让我在线上提交；线上提交不了，又让我打电话。我真不知道还能怎么办了。",
           "stuck in a loop between app and hotline"),
         A("09:13:10", "service_process",
           "您好，给您添麻烦了。图片上传的问题我们技术同事正在处理，我这边可以直接帮您在后台建退货单，照片您加一下我们的企业微信发过来就行。"),
         ),
    call("cust-0405", "agent-103", B,
         C("09:28:40", 6.9, "anger", "communication",
           "我打了一上午电话，全是机器人在那儿转圈，按1按2按了半天就是转不到人工，好不容易转过来又排队四十分钟。你们到底有没有真人客服？是不是就不想让人打通？",
           "IVR maze and 40-minute queue"),
         ),
    call("cust-0406", "agent-107", B,
         C("09:37:00", 4.0, "anxiety", "after_sales",
           "您好，我的扫地机器人寄修半个多月了，维修进度一直显示‘检测中’，一点变化都没有。请问到底修得怎么样了，大概什么时候能寄回来？",
           "repair status frozen for two weeks"),
         A("09:37:40", "after_sales",
           "您好，我查到您的机器检测出来是主板故障，配件昨天已经到了，预计明天完成维修寄出，寄出以后会短信通知您运单号。"),
         ),
    call("cust-0407", "agent-108", B,
         C("09:42:15", 6.4, "anger", "service_attitude",
           "你们门店那个店员，我就问了两句手表怎么连蓝牙，他就不耐烦了，说‘说明书上都写着，自己看’，还翻了个白眼。我花钱买东西还得看人脸色？",
           "rude shop assistant"),
         ),
    call("cust-0423", "agent-109", B,
         C("09:48:00", 4.5, "disappointment", "product_quality",
           "我买的星耀手表W2，宣传说续航十四天，实际三天就得充一次电，功能我都没开几个。跟宣传差得也太多了吧。",
           "battery life far below the advertised 14 days"),
         ),
    call("cust-0408", "agent-102", B,
         C("09:55:30", 5.1, "disappointment", "service_process",
           "退款申请交了五天了，还是‘审核中’。下单的时候页面上写的‘极速退款，最快1小时到账’，说好的极速呢？",
           "promised express refund, five days pending"),
         A("09:56:05", "service_process",
           "您好，这笔退款因为涉及赠品回收，需要仓库先确认，我这边帮您催一下仓库，今天下班前给您处理完。"),
         ),
    call("cust-0426", "agent-112", B,
         C("09:58:40", 5.0, "anxiety", "logistics",
           "我下单三天了，还显示‘待发货’，到底什么时候发货啊？这个是要送人的，周末就要用。",
           "order not shipped after three days"),
         order="YG260102448617"),
    call("cust-0410", "agent-109", B,
         C("10:08:30", 3.7, "neutral", "price",
           "您好，我想问一下，我12月20号买的空气净化器，现在页面上便宜了一百块，这个还能保价吗？保价是多少天以内？",
           "price-protection inquiry"),
         A("10:09:05", "price",
           "您好，我们的价保期是签收后15天，您的订单还在价保期内，我这边直接帮您申请差价退款，一百元会退回原支付账户。"),
         C("10:09:40", 3.5, "positive", "price",
           "哦那挺好，谢谢啊，我还以为要扯皮半天呢。",
           "relieved, positive"),
         ),
    call("cust-0411", "agent-110", B,
         C("10:12:40", 4.3, "disappointment", "service_attitude",
           "之前你们客服一直挺好的，我才一直在悦购买东西。这次接电话的那位一直打断我，说话也挺冲的，跟以前真的没法比，有点失望。",
           "loyal customer, service got worse"),
         ),
    call("cust-0412", "agent-101", B,
         C("10:22:00", 3.9, "neutral", "service_process",
           "您好，我想问一下，换货的话是需要我自己先寄回去，还是你们安排上门取件？运费是谁出？",
           "how exchanges work"),
         ),
    call("cust-0414", "agent-111", B,
         C("10:38:00", 5.8, "helplessness", "communication",
           "昨天客服说两小时内给我回电，我等到晚上十点也没人打来。今天再打过来又换了个人，说系统里什么记录都没有，又要我从头讲一遍。我到底要讲几遍？",
           "promised call-back never came; has to repeat the story"),
         A("10:38:40", "communication",
           "真的非常抱歉。我这边把您的问题完整记录下来并标注为加急，这次由我本人跟进到底，您不需要再重复说明了。"),
         ),
    call("cust-0415", "agent-112", B,
         C("10:45:30", 4.6, "anxiety", "communication",
           "我收到短信说我的订单被取消了，可我根本没有取消啊，钱也已经扣了。这到底是怎么回事？也没人跟我解释一下。",
           "order cancelled without explanation, money taken"),
         ),
    call("cust-0416", "agent-113", B,
         C("10:50:00", 4.1, "neutral", "communication",
           "你好，我刚收到一条短信，说我的订单有问题，让我点链接填银行卡号领退款。这个是你们发的吗？我有点怕是诈骗。",
           "asks whether a refund SMS is a scam"),
         A("10:50:35", "communication",
           "您好，这不是我们发的。悦购不会通过短信链接索要您的银行卡号或验证码，请您千万不要点击，直接删除就可以。"),
         ),
    call("cust-0424", "agent-110", B,
         C("10:55:00", 6.2, "anger", "product_quality",
           "扫地机器人买回来第一天就撞倒了我家的落地灯，根本不避障！你们宣传的激光导航就是个摆设？",
           "robot vacuum knocks over a lamp"),
         ),
    call("cust-0417", "agent-102", B,
         C("11:00:30", 7.1, "anger", "service_process",
           "又让我重新提交材料？发票、照片、开箱视频我上周全都交过了，现在说系统升级资料丢了，让我再传一遍？你们系统丢的东西凭什么让我来补？",
           "asked to resubmit documents again (又)"),
         ),
    call("cust-0419", "agent-105", B,
         C("11:15:00", 3.6, "positive", "after_sales",
           "您好，我没什么事，就是想表扬一下。上次耳机坏了，你们的师傅第二天就上门给换了新的，一点没拖，所以这次我又买了一副。",
           "praise for a fast replacement"),
         ),
    call("cust-0420", "agent-106", B,
         C("11:20:00", 4.8, "disappointment", "price",
           "优惠券明明显示‘可用’，结算的时候就是用不上，客服说是系统原因。现在活动都结束了，那差价怎么算？感觉有点被忽悠了。",
           "coupon could not be used"),
         ),
    call("cust-0422", "agent-108", B,
         C("11:34:00", 3.4, "apathy", "other",
           "你们App一天推七八条消息，我已经把通知全关了。跟你们说一声，以后也不用再打电话给我推销会员了，我不需要，无所谓了。",
           "withdrawn: turned off notifications, 无所谓"),
         ),
]

BACKGROUND_TRANSCRIPTS = [
    transcript("10:02:00", "cust-0409", "agent-105", B, "anger", "service_process",
               "客户：喂，我上周退的那个吹风机，仓库都签收四天了，钱到现在还没退给我。\n"
               "客服：您好，请您提供一下订单号，我帮您查一下。\n"
               "客户：YG251228640271。我都打了两次了，每次都说在处理，到底在处理什么？\n"
               "客服：查到了，您的退货仓库已经签收，但质检环节因为节前积压还没完成，所以退款没有发起，非常抱歉让您久等了。\n"
               "客户：节前积压跟我有什么关系？你们自己的问题凭什么让我等？\n"
               "客服：您说得对，这是我们的问题。我现在直接帮您走加急，今天之内退款原路退回，到账时间以银行为准，一般1到3天。\n"
               "客户：行，今天要是还没动静，我就直接去平台投诉了。\n"
               "客服：好的，我下午四点前会再给您回个电话确认进度。",
               "whole call: refund stuck after return, repeat contact, threat to complain",
               order="YG251228640271"),
    transcript("10:20:30", "cust-0088", "agent-121", B, "apathy", "communication",
               "客服：您好，这里是悦购企业购客服，看到贵公司的企业会员下个月到期，想跟您确认一下续约的安排。\n"
               "客户：哦，不续了。\n"
               "客服：方便问一下是哪方面让您不太满意吗？我们可以帮您看看。\n"
               "客户：也没什么好说的。当初说企业会员有专属客服、采购价更低，实际用下来专属客服就是个群，发消息半天没人回，价格跟外面也差不多。\n"
               "客服：非常抱歉没能达到您的预期，我们这边可以为您升级成一对一的客户经理……\n"
               "客户：不用了，我们已经找好别家了，就这样吧。",
               "retention call: business customer will not renew (不续约); later usage drops"),
    transcript("10:30:10", "cust-0413", "agent-106", B, "positive", "price",
               "客户：你好，我就是想打个电话说一声，上周用你们的以旧换新换了台星耀Pad。\n"
               "客服：您好，请问是遇到什么问题了吗？\n"
               "客户：没有没有，不是来投诉的。上门回收的小伙子很专业，当场检测、当场估价，旧平板比我在别的平台问的价还高两百，新机第二天就送到了。\n"
               "客服：谢谢您的认可，我们会把您的表扬转达给回收同事。新机用着还顺手吗？\n"
               "客户：挺顺手的，数据迁移也是那个小伙子帮我弄的，老照片一张都没丢。\n"
               "客服：那就好，后面有任何问题随时联系我们。\n"
               "客户：好，也帮我谢谢他。说实话本来以为这种活动都是套路，结果还挺实在的。",
               "whole call of praise; 不是来投诉的 and 本来以为…结果 are traps"),
]

BACKGROUND_POSTS = [
    post("09:06:30", "weibo", "夜跑的阿凯", 720, "disappointment", "product_quality", B,
         "星耀手表W2跑步的时候心率忽高忽低，明明是慢跑，心率显示一百八，吓我一跳。这个准确度真的有点拉胯。",
         "smartwatch heart-rate accuracy", comments=9, region="华东-杭州", **WATCH),
    post("09:10:20", "xiaohongshu", "设计师Sean", 4100, "positive", "other", B,
         "悦购App新版的深色模式好看诶，夜里刷不刺眼了，给设计团队加鸡腿🍗",
         "praise for the app's dark mode", comments=26),
    post("09:14:45", "weibo", "宝妈小雨", 2600, "positive", "logistics", B,
         "悦购的奶粉旗舰店发货好快，昨晚下单今早就到了，还送了小样。",
         "fast delivery praise", comments=14, region="华东-南京"),
    post("09:18:10", "weibo", "凌晨三点的猫", 420, "positive", "service_attitude", B,
         "必须夸一下悦购的客服小姐姐，凌晨一点找人工居然秒回，耐心帮我改了地址，还提醒我优惠券快过期了，人超好👍",
         "praise for a night-shift agent", comments=5),
    post("09:22:00", "bilibili", "评测君小周", 156000, "positive", "product_quality", B,
         "星耀X5 256G 深度评测：影像和续航都超出预期，拍夜景很能打；缺点是重负载下机身偏热，这个价位可以接受。",
         "review of another SKU/batch, positive overall", reposts=310, comments=980, **X5_OK),
    post("09:26:15", "weibo", "囤货达人", 5300, "neutral", "other", B,
         "悦购今年的年货节什么时候开始？有没有人知道有没有预售？",
         "neutral question", comments=31),
    post("09:30:40", "xiaohongshu", "燕子爱囤货", 2800, "disappointment", "product_quality", B,
         "Air3左耳用了两周就开始断连，走在路上时不时没声，重新配对也没用。颜值是真的高，质量是真的一言难尽。",
         "earbuds disconnect", comments=40, region="西南-成都", **BUDS),
    post("09:35:05", "weibo", "喵喵酱", 150, "positive", "after_sales", B,
         "悦购的售后师傅今天上门装净水器，活干得很细，走之前还把地拖了一遍，给个大大的赞！",
         "installation praise", comments=3, region="华中-武汉"),
    post("09:40:25", "weibo", "柠檬不萌", 510, "anger", "communication", B,
         "跟悦购在线客服聊了半小时，问的是能不能开专票，回的全是‘亲亲，您的问题已记录’，答非所问，跟对着墙说话一样，气死我了🙃",
         "canned replies, 答非所问", comments=17),
    post("09:42:50", "wechat", "老爸", 25, "helplessness", "service_process", B,
         "手机上那个悦购，字太小了，我找不到退货在哪儿点，问儿子他也忙，只能先放着了。",
         "elderly user cannot find the return button"),
    post("09:55:40", "weibo", "武汉小蔡", 410, "neutral", "logistics", B,
         "武汉这边大雾，高速封了，悦购的件显示延误一天，理解理解，安全第一。",
         "mentions 延误 but is understanding (not a complaint)", comments=2, region="华中-武汉"),
    post("09:58:20", "wechat", "王姐", 40, "apathy", "price", B,
         "悦购PLUS续费从198涨到258了，涨价也不提前说一声，算了，不续了。",
         "price increase; quiet non-renewal"),
    post("10:02:30", "dianping", "周末探店小分队", 3400, "positive", "service_attitude", B,
         "悦购南京西路店的导购小哥很专业，讲得明明白白，不硬推贵的，体验感很好，五星！",
         "store staff praise", comments=22, region="华东-上海"),
    post("10:05:15", "weibo", "精打细算小能手", 6600, "anger", "price", B,
         "上周刚用2999买的星耀Pad 11，今天直接降到2599，申请保价说活动商品不参加。早知道等几天了，感觉自己就是那棵韭菜🌱",
         "price drop, no price protection", reposts=45, comments=190, **PAD),
    post("10:07:45", "douyin", "大刘爱分享", 1300, "helplessness", "communication", B,
         "客服说的和App上写的完全两套说法：一个说七天无理由，一个说拆封不退。到底听谁的？",
         "contradictory answers", comments=34),
    post("10:15:30", "weibo", "厨房小白", 310, "anxiety", "product_quality", B,
         "空气炸锅的涂层才用一个月就开始掉，掉下来的黑渣都粘在鸡翅上，这还敢用吗？",
         "coating flakes; health worry", comments=12, region="华中-武汉", **FRYER),
    post("10:18:20", "bilibili", "折腾党", 64000, "neutral", "price", B,
         "悦购这次年货节的星耀全家桶，值不值得入？我整理了一份历史价格表，大家自取。",
         "neutral price comparison", reposts=150, comments=420),
    post("10:20:50", "zhihu", "退货人", 35, "apathy", "service_process", B,
         "如何评价悦购的退货流程？亲身经历：申请退货→上传凭证→等审核（两天）→审核通过→预约取件→快递员没来→重新预约→寄回仓库→仓库签收后再等三天质检→退款。前前后后两周多，我已经麻了。",
         "long return process; 麻了", comments=8),
    post("10:25:10", "weibo", "科技宅阿伟", 1800, "disappointment", "other", B,
         "悦购App更新之后开屏广告五秒关不掉，首页全是直播推荐，找个订单要翻半天。产品经理出来走两步。",
         "app ads and clutter", comments=44),
    post("10:35:50", "zhihu", "采购小王", 18, "neutral", "other", B,
         "问一下，悦购的企业购账号和个人账号能合并吗？积分能不能通用？",
         "neutral question"),
    post("10:40:40", "dianping", "爱逛街的多多", 1900, "anger", "service_attitude", B,
         "悦购天河体验店的店员态度真的差，进去问个价格爱答不理，一直低头玩手机，问第二遍才抬头说‘标签上有’。服务意识约等于零。",
         "rude store staff", comments=15, region=GZ),
    post("10:50:15", "xiaohongshu", "Lily的小家", 7200, "apathy", "after_sales", B,
         "扫地机寄修一个月了，问进度就是‘在修了在修了’，再问就是‘已加急’。已经不抱希望了，修不好就退吧，无所谓了。",
         "long repair; 无所谓", comments=63, **ROBOT),
    post("11:00:45", "dianping", "带娃出门", 2200, "disappointment", "other", B,
         "悦购深圳湾体验店周末人太多了，停车场还收费，一小时15块，带娃逛一圈停车费比买的东西还贵。",
         "store crowding and parking fees", comments=10, region="华南-深圳"),
    post("11:05:20", "zhihu", "居家好物研究所", 48000, "disappointment", "product_quality", B,
         "星耀扫地机器人R7的避障确实一般，我家测试了三周：电线、袜子基本躲不开，拖布也容易发臭。价格不便宜，体验对不起这个价。",
         "long-form review, below expectations", reposts=120, comments=260, **ROBOT),
    post("11:12:40", "douyin", "成都吃货", 12400, "positive", "logistics", B,
         "飞鸿快递今天送得挺快的，上午下单下午就到了，点赞",
         "fast delivery, other carrier/region", comments=18, region="西南-成都"),
    post("11:15:55", "weibo", "跑者老何", 980, "anger", "after_sales", B,
         "星耀手表W2保修期内表带卡扣断了，售后说是人为损坏不给保。我就正常戴着跑步，也叫人为？保修条款就是摆设吧，骗人的。",
         "warranty refused", comments=29, region="华北-北京", **WATCH),
    post("11:22:35", "weibo", "手机控小赵", 3100, "positive", "price", B,
         "悦购这次以旧换新挺良心的，旧手机估价比别家高两百多，上门回收也快。",
         "trade-in praise", comments=16),
    post("11:28:15", "weibo", "老刘说事", 15000, "anger", "service_attitude", B,
         "打悦购客服问个退货，那边一句一个‘这个我也没办法’，语气跟欠她钱似的。你们培训的时候就教这个？",
         "agent attitude, public", reposts=80, comments=230),
    post("11:32:05", "douyin", "省钱小妙招", 22000, "disappointment", "price", B,
         "会员日说全场五折，结果进去一看全是清仓款，想买的一件都不参加。宣传得倒是挺热闹的。",
         "promotion did not match the advertising", reposts=95, comments=310),
    post("11:37:25", "weibo", "极简主义者", 230, "apathy", "other", B,
         "悦购App越来越臃肿了，打开要等好几秒，还动不动要我开定位。卸了，以后用网页版。",
         "uninstalled the app (卸载)"),
    post("11:40:10", "wechat", "林老师", 88, "disappointment", "product_quality", B,
         "给孩子买的星耀Pad，屏幕右下角出现一小块亮斑，刚买三周。",
         "tablet screen spot", **PAD),
    post("11:44:20", "xiaohongshu", "一颗橙子", 760, "anger", "product_quality", B,
         "买的星耀Air3耳机收到像是二手的？？盒子有拆封痕迹，耳机上还有划痕。说好的全新正品呢？",
         "looks used; feels cheated", comments=47, **BUDS),
    post("11:50:30", "weibo", "小杨不想加班", 260, "disappointment", "service_process", B,
         "悦购的发票要先申请、再审核、再开具，一张电子发票走了三天，报销都过了截止日期。",
         "slow invoice process"),
    post("11:54:45", "weibo", "周周", 60, "disappointment", "communication", B,
         "悦购承诺48小时内回复工单，今天第五天了，工单状态还是‘待处理’。",
         "ticket unanswered past the promise"),
    post("09:52:25", "weibo", "阿珍爱购物", 1050, "anger", "service_attitude", B,
         "打电话问个退款进度，客服那边一直叹气，最后来一句‘你自己不会看App吗’。我要是会看还打电话干嘛？",
         "agent sighs and snaps at the customer", comments=20),
    post("10:13:05", "weibo", "学生党小林", 150, "neutral", "other", B,
         "悦购学生认证在哪里弄？认证了是不是每个月都有优惠券？",
         "neutral question"),
    post("11:18:40", "dianping", "沪上老克勒", 640, "positive", "service_attitude", B,
         "悦购徐家汇店的店长人很好，我家老人新手机不会设置，她手把手教了半个小时，一点没嫌烦。",
         "store manager praised", comments=7, region="华东-上海"),
]
