"""Each adapter against a local fake of its provider that checks the request as the provider
documents it (the signature recomputed here, independently) and answers with the provider's
documented success and error bodies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import urllib.parse
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

from fincrm.messaging.gateways import Outgoing, gateway_for

from .fakes import FakeServer

SIGN_NAME = "恒信金融"


@pytest.fixture
def fake():
    made = []

    def make(handler):
        made.append(FakeServer(handler))
        return made[-1]

    yield make
    for server in made:
        server.close()


def _sms(**kw) -> Outgoing:
    defaults = {"id": "42", "to": "13800138000", "text": "春节快乐", "template_code": "SMS_1"}
    return Outgoing(**{**defaults, **kw})


# -- Alibaba Cloud SMS ---------------------------------------------------------------------

ALIYUN_KEY, ALIYUN_SECRET = "LTAI5tTestKeyId", "testSecret/+="


def _aliyun_encode(value: str) -> str:
    # The documented recipe: URL-encode as UTF-8, then "+" → "%20", "*" → "%2A", "%7E" → "~".
    return (
        urllib.parse.quote_plus(value, safe="")
        .replace("+", "%20")
        .replace("*", "%2A")
        .replace("%7E", "~")
    )


def _aliyun_signature(params: dict, secret: str) -> str:
    canonical = "&".join(
        f"{_aliyun_encode(k)}={_aliyun_encode(v)}" for k, v in sorted(params.items())
    )
    string_to_sign = "GET&" + _aliyun_encode("/") + "&" + _aliyun_encode(canonical)
    mac = hmac.new((secret + "&").encode(), string_to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def aliyun_provider(request):
    """dysmsapi SendSms (2017-05-25) as documented, with its error answers."""
    q = request.query
    request_id = "F655A8D5-B967-440B-8683-DAD6FF8DE990"
    if request.method != "GET" or request.path != "/":
        return 404, {"Code": "InvalidAction.NotFound", "RequestId": request_id}
    params = {k: v for k, v in q.items() if k != "Signature"}
    if q.get("AccessKeyId") != ALIYUN_KEY:
        return 404, {
            "Code": "InvalidAccessKeyId.NotFound",
            "Message": "Specified access key is not found.",
            "RequestId": request_id,
        }
    if q.get("Signature") != _aliyun_signature(params, ALIYUN_SECRET):
        return 400, {
            "Code": "SignatureDoesNotMatch",
            "Message": "Specified signature is not matched with our calculation.",
            "RequestId": request_id,
        }
    fixed = {
        "Action": "SendSms",
        "Version": "2017-05-25",
        "Format": "JSON",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
    }
    if any(q.get(k) != v for k, v in fixed.items()) or not q.get("SignatureNonce"):
        return 400, {"Code": "MissingParameter", "RequestId": request_id}
    datetime.strptime(q["Timestamp"], "%Y-%m-%dT%H:%M:%SZ")  # ISO 8601 in UTC
    if not re.fullmatch(r"1\d{10}", q.get("PhoneNumbers", "")):
        return 200, {
            "Code": "isv.MOBILE_NUMBER_ILLEGAL",
            "Message": "非法手机号",
            "RequestId": request_id,
        }
    if q["PhoneNumbers"] == "13900000000":
        return 200, {
            "Code": "isv.BUSINESS_LIMIT_CONTROL",
            "Message": "触发号码天级流控Permits:10",
            "RequestId": request_id,
        }
    try:
        json.loads(q.get("TemplateParam", "{}"))
    except ValueError:
        return 200, {
            "Code": "isv.INVALID_JSON_PARAM",
            "Message": "JSON参数不合法",
            "RequestId": request_id,
        }
    return 200, {
        "Code": "OK",
        "Message": "OK",
        "BizId": "9006197469364984400",
        "RequestId": request_id,
    }


def _aliyun_url(host, secret=ALIYUN_SECRET):
    secret = urllib.parse.quote(secret, safe="")
    return f"aliyun+http://{ALIYUN_KEY}:{secret}@{host}/?sign_name={urllib.parse.quote(SIGN_NAME)}"


def test_alibaba_cloud_sends_a_signed_sendsms_request(fake, settings):
    server = fake(aliyun_provider)
    settings.FINCRM_SMS_URL = _aliyun_url(server.host)
    result = gateway_for("sms").send(_sms(params={"contact": "王总", "manager": "张伟"}))
    assert result.ok and result.provider_id == "9006197469364984400"
    q = server.requests[0].query
    assert q["PhoneNumbers"] == "13800138000" and q["SignName"] == SIGN_NAME
    assert q["TemplateCode"] == "SMS_1" and q["OutId"] == "42"
    assert json.loads(q["TemplateParam"]) == {"contact": "王总", "manager": "张伟"}
    assert q["RegionId"] == "cn-hangzhou"
    # spaces are %20 and never "+" (the encoding the signature is computed on)
    assert "+" not in server.requests[0].raw_query.split("Signature=")[0]


def test_alibaba_cloud_errors_are_reported_with_the_providers_code(fake, settings):
    server = fake(aliyun_provider)
    settings.FINCRM_SMS_URL = _aliyun_url(server.host, secret="wrong")
    refused = gateway_for("sms").send(_sms())
    assert not refused.ok and not refused.retry
    assert refused.reason.startswith("SignatureDoesNotMatch:")

    settings.FINCRM_SMS_URL = _aliyun_url(server.host)
    illegal = gateway_for("sms").send(_sms(to="12345"))
    assert (illegal.ok, illegal.retry) == (False, False)
    assert illegal.reason == "isv.MOBILE_NUMBER_ILLEGAL: 非法手机号"
    throttled = gateway_for("sms").send(_sms(to="13900000000"))
    assert (throttled.ok, throttled.retry) == (False, True)
    assert throttled.reason.startswith("isv.BUSINESS_LIMIT_CONTROL")
    no_template = gateway_for("sms").send(_sms(template_code=""))
    assert not no_template.ok and "TemplateCode" in no_template.reason
    assert len(server.requests) == 3  # nothing sent without a template code


# -- Tencent Cloud SMS ---------------------------------------------------------------------

TC_ID, TC_KEY = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"


def _tc3_expected(request, secret_key: str) -> str | None:
    """The signature Tencent Cloud computes for this request (signature v3), or None when
    the Authorization header is malformed."""
    m = re.fullmatch(
        r"TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/sms/tc3_request, "
        r"SignedHeaders=(?P<signed>[a-z0-9;\-]+), Signature=(?P<sig>[0-9a-f]{64})",
        request.headers.get("authorization", ""),
    )
    if m is None or m["id"] != TC_ID:
        return None
    timestamp = request.headers["x-tc-timestamp"]
    if datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d") != m["date"]:
        return None
    signed = m["signed"].split(";")
    # each signed header "key:value\n", key and value in lower case and trimmed
    canonical_headers = "".join(f"{h}:{request.headers[h].strip().lower()}\n" for h in signed)
    canonical_request = (
        f"POST\n/\n\n{canonical_headers}\n{m['signed']}\n"
        + hashlib.sha256(request.body).hexdigest()
    )
    scope = f"{m['date']}/sms/tc3_request"
    string_to_sign = (
        f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n"
        + hashlib.sha256(canonical_request.encode()).hexdigest()
    )

    def sign(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    secret_date = sign(("TC3" + secret_key).encode(), m["date"])
    secret_signing = sign(sign(secret_date, "sms"), "tc3_request")
    expected = hmac.new(secret_signing, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return "ok" if expected == m["sig"] else None


def tencent_provider(request):
    request_id = "a0aabda6-cf91-4f3e-a2b0-6ec2ec8dc6f0"
    if _tc3_expected(request, TC_KEY) is None:
        return 200, {
            "Response": {
                "Error": {
                    "Code": "AuthFailure.SignatureFailure",
                    "Message": "The provided credentials could not be validated. Please check your "
                    "signature is correct.",
                },
                "RequestId": request_id,
            }
        }
    h = request.headers
    assert (h["x-tc-action"], h["x-tc-version"]) == ("SendSms", "2021-01-11")
    assert h["content-type"] == "application/json; charset=utf-8" and h["x-tc-region"]
    body = request.json()
    phone = body["PhoneNumberSet"][0]
    if phone == "+8613700000000":
        return 200, {
            "Response": {
                "Error": {"Code": "RequestLimitExceeded", "Message": "请求的次数超过了频率限制。"},
                "RequestId": request_id,
            }
        }
    code, message = "Ok", "send success"
    if phone == "+8613900000000":
        code = "LimitExceeded.PhoneNumberDailyLimit"
        message = "单个手机号日下发短信条数超过设定的上限"
    return 200, {
        "Response": {
            "SendStatusSet": [
                {
                    "SerialNo": "5000:1045710669157053657849499619",
                    "PhoneNumber": phone,
                    "Fee": 1,
                    "SessionContext": body.get("SessionContext", ""),
                    "Code": code,
                    "Message": message,
                    "IsoCode": "CN",
                }
            ],
            "RequestId": request_id,
        }
    }


def _tencent_url(host, key=TC_KEY):
    sign = urllib.parse.quote(SIGN_NAME)
    return f"tencent+http://{TC_ID}:{key}@{host}?sdk_app_id=1400006666&sign_name={sign}"


def test_tencent_cloud_sends_a_tc3_signed_sendsms_request(fake, settings):
    server = fake(tencent_provider)
    settings.FINCRM_SMS_URL = _tencent_url(server.host)
    result = gateway_for("sms").send(
        _sms(template_code="449739", params={"contact": "王总", "manager": "张伟"})
    )
    assert result.ok and result.provider_id == "5000:1045710669157053657849499619"
    body = server.requests[0].json()
    assert body == {
        "PhoneNumberSet": ["+8613800138000"],
        "SmsSdkAppId": "1400006666",
        "SignName": SIGN_NAME,
        "TemplateId": "449739",
        "TemplateParamSet": ["王总", "张伟"],
        "SessionContext": "42",
    }
    assert server.requests[0].headers["host"] == server.host


def test_tencent_cloud_errors_are_reported_with_the_providers_code(fake, settings):
    server = fake(tencent_provider)
    settings.FINCRM_SMS_URL = _tencent_url(server.host, key="wrong")
    refused = gateway_for("sms").send(_sms())
    assert (refused.ok, refused.retry) == (False, False)
    assert refused.reason.startswith("AuthFailure.SignatureFailure:")
    settings.FINCRM_SMS_URL = _tencent_url(server.host)
    capped = gateway_for("sms").send(_sms(to="13900000000"))
    assert (capped.ok, capped.retry) == (False, False)
    assert capped.reason.startswith("LimitExceeded.PhoneNumberDailyLimit:")
    busy = gateway_for("sms").send(_sms(to="13700000000"))
    assert (busy.ok, busy.retry) == (False, True)


# -- WeCom and the WeChat Official Account -------------------------------------------------


class WeComProvider:
    """gettoken + message/send; a token can be expired on demand (errcode 42001)."""

    def __init__(self):
        self.issued, self.expired = 0, set()

    def __call__(self, request):
        if request.path == "/cgi-bin/gettoken" and request.method == "GET":
            if request.query != {"corpid": "ww1234567890", "corpsecret": "app-secret"}:
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            self.issued += 1
            return 200, {
                "errcode": 0,
                "errmsg": "ok",
                "access_token": f"T{self.issued}",
                "expires_in": 7200,
            }
        if request.path == "/cgi-bin/message/send" and request.method == "POST":
            token = request.query.get("access_token", "")
            if not re.fullmatch(r"T\d+", token):
                return 200, {"errcode": 40014, "errmsg": "invalid access_token"}
            if token in self.expired:
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            body = request.json()
            assert body["msgtype"] == "text" and body["agentid"] == 1000002
            assert set(body) >= {"touser", "msgtype", "agentid", "text"}
            if body["touser"] == "nobody":
                return 200, {"errcode": 81013, "errmsg": "user & party & tag all invalid"}
            return 200, {
                "errcode": 0,
                "errmsg": "ok",
                "invaliduser": "",
                "msgid": "xPKCxKwvHaBE8LqTWmkAb8Tn1AfhN9Yjy7YcqLaYdQ",
            }
        return 404, {"errcode": 404}


def test_wecom_fetches_a_token_once_and_sends_an_application_message(fake, settings):
    provider = WeComProvider()
    server = fake(provider)
    settings.FINCRM_WECHAT_URL = (
        f"wecom+http://ww1234567890:app-secret@{server.host}?agent_id=1000002"
    )
    first = gateway_for("wechat").send(Outgoing(id="1", to="wangzong", text="中秋快乐"))
    second = gateway_for("wechat").send(Outgoing(id="2", to="wangzong", text="国庆快乐"))
    assert first.ok and second.ok and first.provider_id.startswith("xPKC")
    assert provider.issued == 1  # the token is kept in the cache
    assert server.requests[1].json()["text"] == {"content": "中秋快乐"}

    provider.expired.add("T1")
    again = gateway_for("wechat").send(Outgoing(id="3", to="wangzong", text="元旦快乐"))
    assert again.ok and provider.issued == 2  # an expired token is fetched again, once

    unknown = gateway_for("wechat").send(Outgoing(id="4", to="nobody", text="x"))
    assert (unknown.ok, unknown.retry) == (False, False)
    assert unknown.reason == "81013: user & party & tag all invalid"


def test_wecom_reports_a_refused_secret(fake, settings):
    server = fake(WeComProvider())
    settings.FINCRM_WECHAT_URL = f"wecom+http://ww1234567890:wrong@{server.host}?agent_id=1000002"
    result = gateway_for("wechat").send(Outgoing(id="1", to="wangzong", text="x"))
    assert not result.ok and result.reason == "access token refused: 40001: invalid credential"


def official_account(request):
    if request.path == "/cgi-bin/token":
        if request.query != {
            "grant_type": "client_credential",
            "appid": "wx520c15f417810387",
            "secret": "app-secret",
        }:
            return 200, {"errcode": 40013, "errmsg": "invalid appid"}
        return 200, {"access_token": "ACCESS_TOKEN", "expires_in": 7200}
    if request.path == "/cgi-bin/message/template/send":
        if request.query.get("access_token") != "ACCESS_TOKEN":
            return 200, {"errcode": 40001, "errmsg": "invalid credential"}
        body = request.json()
        assert body["template_id"] == "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY"
        assert all(set(v) == {"value"} for v in body["data"].values())
        if body["touser"] == "unsubscribed-openid":
            return 200, {"errcode": 43004, "errmsg": "require subscribe"}
        return 200, {"errcode": 0, "errmsg": "ok", "msgid": 200228332}
    return 404, {}


def test_official_account_sends_a_template_message(fake, settings):
    server = fake(official_account)
    settings.FINCRM_WECHAT_URL = f"wxmp+http://wx520c15f417810387:app-secret@{server.host}"
    outgoing = Outgoing(
        id="1",
        to="oLVPpjqs9BhvzwPj5A-vTYAX3GLc",
        text="x",
        template_code="ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY",
        params={"thing1": "春节", "thing2": "张伟"},
    )
    result = gateway_for("wechat").send(outgoing)
    assert result.ok and result.provider_id == "200228332"
    assert server.requests[-1].json()["data"] == {
        "thing1": {"value": "春节"},
        "thing2": {"value": "张伟"},
    }
    refused = gateway_for("wechat").send(
        Outgoing(id="2", to="unsubscribed-openid", text="x", template_code=outgoing.template_code)
    )
    assert (refused.ok, refused.reason) == (False, "43004: require subscribe")


# -- The generic webhook and e-mail ----------------------------------------------------------


def test_the_generic_webhook_posts_to_text_and_id_and_any_2xx_is_sent(fake, settings):
    answers = iter([(202, {}), (503, b"busy"), (400, b"bad number")])
    server = fake(lambda request: next(answers))
    settings.FINCRM_SMS_URL = f"http://{server.host}/sms/send?key=abc"
    sent = gateway_for("sms").send(_sms())
    assert sent.ok
    request = server.requests[0]
    assert (request.method, request.path, request.query) == ("POST", "/sms/send", {"key": "abc"})
    assert request.json() == {"to": "13800138000", "text": "春节快乐", "id": "42"}
    busy = gateway_for("sms").send(_sms())
    assert (busy.ok, busy.retry, busy.reason) == (False, True, "HTTP 503 busy")
    bad = gateway_for("sms").send(_sms())
    assert (bad.ok, bad.retry, bad.reason) == (False, False, "HTTP 400 bad number")


def test_a_gateway_that_does_not_answer_is_retried(settings):
    settings.FINCRM_SMS_URL = "http://127.0.0.1:9/nothing-listens"
    result = gateway_for("sms").send(_sms())
    assert (result.ok, result.retry) == (False, True) and result.reason


def test_e_mail_goes_through_the_configured_django_backend(settings):
    settings.FINCRM_EMAIL_URL = "locmem://?from=crm@example.cn"
    result = gateway_for("email").send(
        Outgoing(
            id="1",
            to="wang@example.cn",
            text="您好",
            subject="问候",
            headers={"List-Unsubscribe": "<https://x/u/>"},
        )
    )
    assert result.ok
    (sent,) = mail.outbox
    assert (sent.to, sent.subject) == (["wang@example.cn"], "问候")
    assert sent.from_email == "crm@example.cn"
    assert sent.extra_headers["List-Unsubscribe"] == "<https://x/u/>"


def test_an_e_mail_carries_its_attachments(settings):
    settings.FINCRM_EMAIL_URL = "locmem://"
    report = ("报告-2026-06.pdf", b"%PDF-1.4 ...", "application/pdf")
    result = gateway_for("email").send(
        Outgoing(id="2", to="wang@example.cn", text="附件为本月报告", attachments=(report,))
    )
    assert result.ok
    (sent,) = mail.outbox
    assert sent.attachments == [report]


def test_unknown_schemes_fail_loudly_and_no_url_means_no_gateway(settings):
    settings.FINCRM_SMS_URL = ""
    assert gateway_for("sms") is None
    settings.FINCRM_SMS_URL = "smpp://host"
    with pytest.raises(ImproperlyConfigured, match="FINCRM_SMS_URL"):
        gateway_for("sms")
    settings.FINCRM_EMAIL_URL = "pop3://host"
    with pytest.raises(ImproperlyConfigured, match="FINCRM_EMAIL_URL"):
        gateway_for("email")


@pytest.mark.django_db
def test_staff_are_told_by_e_mail_and_wecom(fake, settings, users):
    from fincrm.messaging.services import staff_notify

    provider = WeComProvider()
    server = fake(provider)
    settings.FINCRM_WECHAT_URL = (
        f"wecom+http://ww1234567890:app-secret@{server.host}?agent_id=1000002"
    )
    lead = users["lead"]
    lead.email = "lead@example.cn"
    lead.save()
    went = staff_notify(user=lead, subject="[fincrm] 1 条新预警", text="高 · 某公司 · 逾期天数")
    assert went == ["email", "wechat"]
    assert mail.outbox[0].to == ["lead@example.cn"] and "逾期天数" in mail.outbox[0].body
    body = server.requests[-1].json()
    assert body["touser"] == "lead" and body["text"]["content"].startswith("[fincrm] 1 条新预警")
    settings.FINCRM_WECHAT_URL = ""
    assert staff_notify(user=users["manager_b"], subject="s", text="t") == []  # no e-mail, no WeCom
