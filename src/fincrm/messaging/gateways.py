"""Gateways: ``fincrm`` decides what goes and when, a gateway delivers it.

Each channel's gateway is configured by one URL in the environment, like the database:
``FINCRM_EMAIL_URL``, ``FINCRM_SMS_URL``, ``FINCRM_WECHAT_URL``. The scheme picks the adapter;
``+http`` after it talks plain HTTP to the host given (a local test double), otherwise HTTPS to
the provider's host (the default host when the URL names none):

=====================================================  ==========================================
``smtp://user:password@host:587?tls=1&from=a@b.cn``     SMTP through Django's e-mail backend
                                                        (``ssl=1`` for port 465; ``console://``
                                                        and ``locmem://`` for development)
``aliyun://KEY_ID:SECRET@dysmsapi.aliyuncs.com``        Alibaba Cloud SMS ``SendSms`` (RPC
``?sign_name=签名&region=cn-hangzhou``                  signature, HMAC-SHA1)
``tencent://SECRET_ID:SECRET_KEY@sms.tencentcloudapi.``  Tencent Cloud SMS ``SendSms`` 2021-01-11
``com?sdk_app_id=1400000000&sign_name=签名``            (TC3-HMAC-SHA256)
``wecom://CORP_ID:SECRET@qyapi.weixin.qq.com``          WeCom (企业微信) application messages
``?agent_id=1000002``
``wxmp://APP_ID:APP_SECRET@api.weixin.qq.com``          WeChat Official Account template messages
``http(s)://host/path``                                 a generic JSON webhook: ``POST {"to",
                                                        "text", "id"}``, any 2xx is sent
=====================================================  ==========================================

An adapter answers with a :class:`Result`: sent (with the provider's message id), or failed
with the provider's own code and words, and whether trying again later may help.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage, get_connection

TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Result:
    ok: bool
    provider_id: str = ""
    reason: str = ""
    #: A transient failure (network, the provider busy or throttling): try again later.
    retry: bool = False


@dataclass(frozen=True)
class Outgoing:
    """What an adapter needs of a message."""

    id: str
    to: str
    text: str
    subject: str = ""
    template_code: str = ""
    #: The template's variables and their values, in the order the text uses them.
    params: dict | None = None
    headers: dict | None = None
    #: Files an e-mail carries: (file name, content, MIME type); other channels ignore them.
    attachments: tuple[tuple[str, bytes, str], ...] = ()


class GatewayError(Exception):
    """No answer worth reading (network error, not JSON): try again later."""


def _http(method: str, url: str, *, body: bytes | None = None, headers=None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise GatewayError(f"{type(exc).__name__}: {exc}"[:300]) from exc


def _json(status: int, raw: bytes) -> dict:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise GatewayError(f"HTTP {status}: {raw[:200]!r}") from exc
    if not isinstance(data, dict):
        raise GatewayError(f"HTTP {status}: {raw[:200]!r}")
    return data


def _failure(exc: GatewayError) -> Result:
    return Result(False, reason=str(exc), retry=True)


class Gateway:
    """One provider; ``url`` is the parsed configuration URL."""

    default_host = ""

    def __init__(self, url: urllib.parse.SplitResult):
        self.url = url
        self.query = dict(urllib.parse.parse_qsl(url.query))
        self.key = urllib.parse.unquote(url.username or "")
        self.secret = urllib.parse.unquote(url.password or "")
        host = url.hostname or self.default_host
        self.netloc = f"{host}:{url.port}" if url.port else host
        self.base = ("http" if url.scheme.endswith("+http") else "https") + "://" + self.netloc

    def send(self, message: Outgoing) -> Result:  # pragma: no cover - abstract
        raise NotImplementedError


class Webhook(Gateway):
    """Any gateway without an adapter: ``POST {"to", "text", "id"}`` as JSON, 2xx = sent;
    5xx and network errors are tried again, any other answer is a failure."""

    def send(self, message: Outgoing) -> Result:
        body = json.dumps(
            {"to": message.to, "text": message.text, "id": message.id}, ensure_ascii=False
        ).encode()
        try:
            status, raw = _http(
                "POST",
                urllib.parse.urlunsplit(self.url),
                body=body,
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
        except GatewayError as exc:
            return _failure(exc)
        if 200 <= status < 300:
            return Result(True, provider_id=message.id)
        text = raw[:200].decode("utf-8", "replace")
        return Result(False, reason=f"HTTP {status} {text}".strip(), retry=status >= 500)


# -- Alibaba Cloud SMS -------------------------------------------------------------------


def aliyun_percent(value: str) -> str:
    """Alibaba Cloud's encoding (RFC 3986): A–Z a–z 0–9 - _ . ~ kept, the rest %XY of UTF-8."""
    return urllib.parse.quote(value, safe="-_.~")


def aliyun_signature(params: dict[str, str], secret: str, method: str = "GET") -> str:
    """The RPC signature: Base64(HMAC-SHA1(secret + "&", method & %2F & encoded canonical
    query)), the canonical query being the sorted, encoded ``name=value`` pairs."""
    canonical = "&".join(
        f"{aliyun_percent(k)}={aliyun_percent(v)}" for k, v in sorted(params.items())
    )
    to_sign = f"{method}&{aliyun_percent('/')}&{aliyun_percent(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


#: Alibaba Cloud answers worth a later try: throttling and the service's own trouble.
ALIYUN_TRANSIENT = ("Throttling", "ServiceUnavailable", "InternalError",
                    "isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR")  # fmt: skip


class AliyunSms(Gateway):
    default_host = "dysmsapi.aliyuncs.com"

    def send(self, message: Outgoing) -> Result:
        if not message.template_code:
            return Result(False, reason="Alibaba Cloud SMS needs a template code (TemplateCode)")
        params = {
            "AccessKeyId": self.key,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": message.id,
            "PhoneNumbers": message.to,
            "RegionId": self.query.get("region", "cn-hangzhou"),
            "SignName": self.query.get("sign_name", ""),
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": message.template_code,
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        if message.params:
            params["TemplateParam"] = json.dumps(message.params, ensure_ascii=False)
        params["Signature"] = aliyun_signature(params, self.secret)
        query = "&".join(f"{aliyun_percent(k)}={aliyun_percent(v)}" for k, v in params.items())
        try:
            data = _json(*_http("GET", f"{self.base}/?{query}"))
        except GatewayError as exc:
            return _failure(exc)
        code = str(data.get("Code", ""))
        if code == "OK":
            return Result(True, provider_id=str(data.get("BizId", "")))
        return Result(
            False,
            reason=f"{code}: {data.get('Message', '')}"[:300],
            retry=code.startswith(ALIYUN_TRANSIENT),
        )


# -- Tencent Cloud SMS -------------------------------------------------------------------


def _hmac256(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def tc3_authorization(
    *, secret_id: str, secret_key: str, service: str, host: str, body: bytes, timestamp: int,
    content_type: str = "application/json; charset=utf-8",
) -> str:  # fmt: skip
    """Tencent Cloud API 3.0's ``Authorization`` header (TC3-HMAC-SHA256) of a POST to ``/``
    signing the ``content-type`` and ``host`` headers."""
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    signed_headers = "content-type;host"
    canonical_request = "\n".join([
        "POST", "/", "", f"content-type:{content_type}\nhost:{host}\n", signed_headers,
        hashlib.sha256(body).hexdigest(),
    ])  # fmt: skip
    scope = f"{day}/{service}/tc3_request"
    to_sign = "\n".join([
        "TC3-HMAC-SHA256", str(timestamp), scope,
        hashlib.sha256(canonical_request.encode()).hexdigest(),
    ])  # fmt: skip
    key = _hmac256(_hmac256(_hmac256(f"TC3{secret_key}".encode(), day), service), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )


TENCENT_TRANSIENT = ("InternalError", "RequestLimitExceeded", "ResourceUnavailable",
                     "FailedOperation.FailResolvePacket")  # fmt: skip


class TencentSms(Gateway):
    default_host = "sms.tencentcloudapi.com"

    def send(self, message: Outgoing) -> Result:
        if not message.template_code:
            return Result(False, reason="Tencent Cloud SMS needs a template id (TemplateId)")
        to = message.to if message.to.startswith("+") else f"+86{message.to}"
        payload = {
            "PhoneNumberSet": [to],
            "SmsSdkAppId": self.query.get("sdk_app_id", ""),
            "SignName": self.query.get("sign_name", ""),
            "TemplateId": message.template_code,
            "TemplateParamSet": [str(v) for v in (message.params or {}).values()],
            "SessionContext": message.id,
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
        timestamp = int(datetime.now(UTC).timestamp())
        authorization = tc3_authorization(
            secret_id=self.key,
            secret_key=self.secret,
            service="sms",
            host=self.netloc,
            body=body,
            timestamp=timestamp,
        )
        headers = {
            "Authorization": authorization,
            "Content-Type": "application/json; charset=utf-8",
            "Host": self.netloc,
            "X-TC-Action": "SendSms",
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": "2021-01-11",
            "X-TC-Region": self.query.get("region", "ap-guangzhou"),
        }
        try:
            data = _json(*_http("POST", f"{self.base}/", body=body, headers=headers))
        except GatewayError as exc:
            return _failure(exc)
        response = data.get("Response") or {}
        error = response.get("Error")
        if error:
            code = str(error.get("Code", ""))
            return Result(
                False,
                reason=f"{code}: {error.get('Message', '')}"[:300],
                retry=code.startswith(TENCENT_TRANSIENT),
            )
        statuses = response.get("SendStatusSet") or [{}]
        status = statuses[0]
        if status.get("Code") == "Ok":
            return Result(True, provider_id=str(status.get("SerialNo", "")))
        return Result(False, reason=f"{status.get('Code', '')}: {status.get('Message', '')}"[:300])


# -- WeChat: WeCom application messages, Official Account template messages -------------------

#: errcode values meaning the access token is no longer valid: fetch a new one once.
TOKEN_EXPIRED = {40001, 40014, 42001}
#: -1 system busy, 45009 call frequency: worth a later try.
WECHAT_TRANSIENT = {-1, 45009, 45011}


class _TokenGateway(Gateway):
    """Both WeChat APIs take an access token fetched with the app's id and secret, valid for
    ``expires_in`` seconds (7,200): kept in the cache until shortly before it expires."""

    def _fetch_token(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _cache_key(self) -> str:
        return f"messaging:token:{self.url.scheme}:{self.netloc}:{self.key}"

    def token(self, *, fresh: bool = False) -> str:
        if not fresh:
            cached = cache.get(self._cache_key())
            if cached:
                return cached
        data = self._fetch_token()
        if data.get("errcode") not in (None, 0) or not data.get("access_token"):
            raise TokenRefused(f"{data.get('errcode')}: {data.get('errmsg', '')}"[:300])
        ttl = max(int(data.get("expires_in", 7200)) - 300, 60)
        cache.set(self._cache_key(), data["access_token"], ttl)
        return data["access_token"]

    def _post(self, path: str, payload: dict) -> Result:
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        try:
            for fresh in (False, True):
                token = urllib.parse.quote(self.token(fresh=fresh))
                url = f"{self.base}{path}?access_token={token}"
                data = _json(*_http("POST", url, body=body, headers=headers))
                if data.get("errcode") not in TOKEN_EXPIRED:
                    break
        except TokenRefused as exc:
            return Result(False, reason=f"access token refused: {exc}")
        except GatewayError as exc:
            return _failure(exc)
        code = data.get("errcode", 0)
        if code == 0:
            invalid = str(data.get("invaliduser") or "")
            if invalid:
                return Result(False, reason=f"invaliduser: {invalid}")
            return Result(True, provider_id=str(data.get("msgid", "")))
        return Result(
            False, reason=f"{code}: {data.get('errmsg', '')}"[:300], retry=code in WECHAT_TRANSIENT
        )


class TokenRefused(Exception):
    pass


class WeCom(_TokenGateway):
    """WeCom application messages: ``gettoken`` then ``message/send`` (text)."""

    default_host = "qyapi.weixin.qq.com"

    def _fetch_token(self) -> dict:
        query = urllib.parse.urlencode({"corpid": self.key, "corpsecret": self.secret})
        try:
            return _json(*_http("GET", f"{self.base}/cgi-bin/gettoken?{query}"))
        except GatewayError as exc:
            raise TokenRefused(str(exc)) from exc

    def send(self, message: Outgoing) -> Result:
        return self._post(
            "/cgi-bin/message/send",
            {
                "touser": message.to,
                "msgtype": "text",
                "agentid": int(self.query.get("agent_id", "0")),
                "text": {"content": message.text},
                "safe": 0,
            },
        )


class WeChatOfficialAccount(_TokenGateway):
    """Official Account template messages: ``token`` then ``message/template/send``; the
    template id is the message template's provider code, its fields the placeholders."""

    default_host = "api.weixin.qq.com"

    def _fetch_token(self) -> dict:
        query = urllib.parse.urlencode(
            {"grant_type": "client_credential", "appid": self.key, "secret": self.secret}
        )
        try:
            return _json(*_http("GET", f"{self.base}/cgi-bin/token?{query}"))
        except GatewayError as exc:
            raise TokenRefused(str(exc)) from exc

    def send(self, message: Outgoing) -> Result:
        if not message.template_code:
            return Result(False, reason="WeChat template messages need a template id")
        fields = message.params or {"content": message.text}
        return self._post(
            "/cgi-bin/message/template/send",
            {
                "touser": message.to,
                "template_id": message.template_code,
                "data": {name: {"value": str(value)} for name, value in fields.items()},
            },
        )


# -- E-mail ------------------------------------------------------------------------------


class Email(Gateway):
    """SMTP (or another Django e-mail backend) named by the URL; Django's configured backend
    when ``FINCRM_EMAIL_URL`` is empty."""

    BACKENDS = {
        "smtp": "django.core.mail.backends.smtp.EmailBackend",
        "console": "django.core.mail.backends.console.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
    }

    def __init__(self, url: urllib.parse.SplitResult | None):
        self.url = url
        if url is not None:
            if url.scheme not in self.BACKENDS:
                raise ImproperlyConfigured(
                    f"FINCRM_EMAIL_URL: unknown scheme {url.scheme!r} "
                    f"(one of {', '.join(sorted(self.BACKENDS))})"
                )
            super().__init__(url)

    def connection(self):
        if self.url is None:
            return get_connection()
        backend = self.BACKENDS[self.url.scheme]
        if self.url.scheme != "smtp":
            return get_connection(backend)
        return get_connection(
            backend,
            host=self.url.hostname,
            port=self.url.port or 25,
            username=self.key or None,
            password=self.secret or None,
            use_tls=self.query.get("tls") == "1",
            use_ssl=self.query.get("ssl") == "1",
            timeout=TIMEOUT_SECONDS,
        )

    def send(self, message: Outgoing) -> Result:
        sender = (self.query.get("from") if self.url is not None else None) or None
        mail = EmailMessage(
            subject=message.subject,
            body=message.text,
            from_email=sender,
            to=[message.to],
            headers=message.headers or {},
            connection=self.connection(),
        )
        for name, content, mimetype in message.attachments:
            mail.attach(name, content, mimetype or None)
        try:
            mail.send()
        except smtplib.SMTPRecipientsRefused as exc:
            return Result(False, reason=f"recipient refused: {exc.recipients}"[:300])
        except (smtplib.SMTPException, OSError) as exc:
            return Result(False, reason=f"{type(exc).__name__}: {exc}"[:300], retry=True)
        return Result(True, provider_id=mail.extra_headers.get("Message-ID", ""))


# -- Configuration -----------------------------------------------------------------------

ADAPTERS: dict[str, dict[str, type[Gateway]]] = {
    "sms": {"aliyun": AliyunSms, "tencent": TencentSms, "http": Webhook, "https": Webhook},
    "wechat": {"wecom": WeCom, "wxmp": WeChatOfficialAccount, "http": Webhook, "https": Webhook},
}
SETTINGS = {"sms": "FINCRM_SMS_URL", "wechat": "FINCRM_WECHAT_URL", "email": "FINCRM_EMAIL_URL"}


def gateway_url(channel: str) -> str:
    return getattr(settings, SETTINGS[channel], "") or ""


def gateway_for(channel: str) -> Gateway | None:
    """The channel's gateway, or None when none is configured (e-mail always has one)."""
    raw = gateway_url(channel)
    if channel == "email":
        return Email(urllib.parse.urlsplit(raw) if raw else None)
    if not raw:
        return None
    url = urllib.parse.urlsplit(raw)
    adapter = ADAPTERS[channel].get(url.scheme.removesuffix("+http"))
    if adapter is None:
        raise ImproperlyConfigured(
            f"{SETTINGS[channel]}: unknown scheme {url.scheme!r} "
            f"(one of {', '.join(sorted(ADAPTERS[channel]))}, optionally with +http)"
        )
    return adapter(url)
