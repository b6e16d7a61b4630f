"""WeChat callback XML: parsing every message kind, refusing hostile XML, reply round trips."""

from __future__ import annotations

import time

import pytest
from lxml import etree

from web.wechat.crypto import MessageCrypto
from web.wechat.messages import MAX_BYTES, Message, MessageError, message_key, parse, text_reply

TEXT = """<xml>
  <ToUserName><![CDATA[gh_jiangan]]></ToUserName>
  <FromUserName><![CDATA[oUser123]]></FromUserName>
  <CreateTime>1700000000</CreateTime>
  <MsgType><![CDATA[text]]></MsgType>
  <Content><![CDATA[企业开办要几天？]]></Content>
  <MsgId>23456789012345678</MsgId>
</xml>"""


def test_text_message():
    m = parse(TEXT)
    assert (m.to_user, m.from_user, m.create_time) == ("gh_jiangan", "oUser123", 1700000000)
    assert (m.msg_type, m.content, m.msg_id) == ("text", "企业开办要几天？", "23456789012345678")
    assert m.event == "" and m.encrypt == ""
    assert m.fields["Content"] == "企业开办要几天？" and len(m.fields) == 6
    assert parse(TEXT.encode("utf-8")) == m  # bytes as well as str


def test_plain_text_children_and_xml_declaration():
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<xml><ToUserName>gh_1</ToUserName>'
        "<FromUserName>oU</FromUserName><CreateTime>12</CreateTime><MsgType>text</MsgType>"
        "<Content>a &lt;b&gt; &amp; c</Content><MsgId>7</MsgId></xml>"
    )
    for body in (xml, xml.encode()):
        m = parse(body)
        assert (m.to_user, m.content, m.msg_id, m.create_time) == ("gh_1", "a <b> & c", "7", 12)


def test_voice_with_recognition():
    m = parse(
        "<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[oU]]></FromUserName>"
        "<CreateTime>1357290913</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
        "<MediaId><![CDATA[media_v]]></MediaId><Format><![CDATA[amr]]></Format>"
        "<Recognition><![CDATA[人才公寓怎么申请]]></Recognition><MsgId>1234567890123456</MsgId>"
        "</xml>"
    )
    assert (m.msg_type, m.media_id, m.recognition) == ("voice", "media_v", "人才公寓怎么申请")
    assert m.fields["Format"] == "amr"


def test_image_and_location():
    image = parse(
        "<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[oU]]></FromUserName>"
        "<CreateTime>1348831860</CreateTime><MsgType><![CDATA[image]]></MsgType>"
        "<PicUrl><![CDATA[https://mmbiz.example/p.jpg]]></PicUrl>"
        "<MediaId><![CDATA[media_i]]></MediaId><MsgId>1234567890123457</MsgId></xml>"
    )
    assert (image.msg_type, image.media_id) == ("image", "media_i")
    assert image.fields["PicUrl"] == "https://mmbiz.example/p.jpg"
    loc = parse(
        "<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[oU]]></FromUserName>"
        "<CreateTime>1351776360</CreateTime><MsgType><![CDATA[location]]></MsgType>"
        "<Location_X>30.6</Location_X><Location_Y>114.3</Location_Y><Scale>20</Scale>"
        "<Label><![CDATA[江岸区政务服务中心]]></Label><MsgId>1234567890123458</MsgId></xml>"
    )
    assert loc.msg_type == "location" and loc.fields["Location_X"] == "30.6"
    assert loc.fields["Label"] == "江岸区政务服务中心"


def test_events_and_wecom_agent():
    sub = parse(
        "<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[oU]]></FromUserName>"
        "<CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[subscribe]]></Event></xml>"
    )
    assert (sub.msg_type, sub.event, sub.msg_id) == ("event", "subscribe", "")
    click = parse(
        "<xml><ToUserName><![CDATA[ww_corp]]></ToUserName><FromUserName><![CDATA[zhangsan]]>"
        "</FromUserName><CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[click]]></Event><EventKey><![CDATA[MENU_POLICY]]></EventKey>"
        "<AgentID>1000002</AgentID></xml>"
    )
    assert (click.event, click.event_key, click.agent_id) == ("click", "MENU_POLICY", "1000002")


def test_encrypted_envelope_round_trip():
    crypto = MessageCrypto("tok", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx_app")
    envelope = (
        "<xml><ToUserName><![CDATA[gh_jiangan]]></ToUserName>"
        f"<Encrypt><![CDATA[{crypto.encrypt(TEXT)}]]></Encrypt></xml>"
    )
    outer = parse(envelope)
    assert outer.to_user == "gh_jiangan" and outer.msg_type == "" and outer.encrypt
    inner = parse(crypto.decrypt(outer.encrypt))
    assert inner == parse(TEXT)
    # WeCom's envelope carries AgentID beside Encrypt
    wecom = parse(
        "<xml><ToUserName><![CDATA[ww1]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID>"
        "<Encrypt><![CDATA[QUJD]]></Encrypt></xml>"
    )
    assert (wecom.agent_id, wecom.encrypt) == ("1000002", "QUJD")


XXE = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh</ToUserName><Content>&xxe;</Content></xml>"""

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<xml><Content>&lol9;</Content></xml>"""

PARAMETER_ENTITY = """<!doctype xml [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>
<xml><Content>x</Content></xml>"""


@pytest.mark.parametrize("body", [XXE, LAUGHS, PARAMETER_ENTITY])
def test_doctype_and_entities_are_refused(body):
    started = time.monotonic()
    for data in (body, body.encode()):
        with pytest.raises(MessageError, match="DOCTYPE"):
            parse(data)
    assert time.monotonic() - started < 1.0


def test_undeclared_entity_is_not_resolved():
    # no DOCTYPE, an entity reference anyway: not well-formed, refused, nothing read
    with pytest.raises(MessageError):
        parse("<xml><Content>&xxe;</Content></xml>")


def test_oversize_is_refused():
    big = "<xml><Content><![CDATA[" + "字" * (MAX_BYTES // 3 + 10) + "]]></Content></xml>"
    with pytest.raises(MessageError, match="larger than"):
        parse(big)
    # just under the cap is fine
    ok = "<xml><Content><![CDATA[" + "a" * (MAX_BYTES - 100) + "]]></Content></xml>"
    assert len(parse(ok).content) == MAX_BYTES - 100


@pytest.mark.parametrize(
    "body",
    [
        "",
        "hello",
        '{"ToUserName": "gh"}',
        "<xml><Content>unclosed</xml>",
        "<html><body/></html>",
        "<xml><CreateTime>soon</CreateTime></xml>",
        b"\xff\xfe<\x00x\x00",
    ],
)
def test_non_messages_are_refused(body):
    with pytest.raises(MessageError) as e:
        parse(body)
    assert e.value.message and "Traceback" not in e.value.message


def test_text_reply_round_trip_with_cdata_end_in_content():
    content = "答复 ]]> 结束 <b>&amp;</b> ]]]]> 两次\n第二行"
    xml = text_reply("oUser123", "gh_jiangan", content, now=1700000001)
    root = etree.fromstring(xml.encode())
    assert [c.tag for c in root] == [
        "ToUserName",
        "FromUserName",
        "CreateTime",
        "MsgType",
        "Content",
    ]
    m = parse(xml)
    assert (m.to_user, m.from_user, m.create_time) == ("oUser123", "gh_jiangan", 1700000001)
    assert (m.msg_type, m.content) == ("text", content)
    assert xml.startswith("<xml><ToUserName><![CDATA[oUser123]]></ToUserName>")
    assert "<MsgType><![CDATA[text]]></MsgType>" in xml


def test_text_reply_drops_characters_xml_cannot_hold():
    xml = text_reply("oU", "gh", "a\x00b\x07c\td", now=1)
    assert parse(xml).content == "abc\td"
    assert abs(parse(text_reply("oU", "gh", "x")).create_time - time.time()) < 5


def test_message_key():
    m = parse(TEXT)
    assert message_key("mp", "gh_jiangan", m) == "mp:gh_jiangan:23456789012345678"
    event = Message(from_user="oU", create_time=123, msg_type="event", event="subscribe")
    assert message_key("wecom", "ww1", event) == "wecom:ww1:oU:123:subscribe"
    other = Message(from_user="oU", create_time=123, msg_type="event", event="unsubscribe")
    assert message_key("wecom", "ww1", other) != message_key("wecom", "ww1", event)


def test_other_encodings_cannot_hide_a_doctype():
    with pytest.raises(MessageError):
        parse(LAUGHS.replace('<?xml version="1.0"?>', "").encode("utf-16"))
    with pytest.raises(MessageError):
        parse(XXE.replace('"1.0"?>', '"1.0" encoding="UTF-16"?>').encode("utf-16-le"))
    # a declared encoding is ignored: the body is read as the UTF-8 WeChat sends
    m = parse('<?xml version="1.0" encoding="GBK"?><xml><Content>中文</Content></xml>'.encode())
    assert m.content == "中文"
