// Type declarations for Portcullis plugins (Tyk JSVM middleware).
//
// Reference this file from a plugin so editors complete and check the Tyk
// objects and bindings:
//
//     /// <reference path="./tyk.d.ts" />
//
// Everything here exists at run time in every API's JavaScript context. The
// test suite checks that each global binding, each prelude method and each
// field of the objects plugins receive is declared here, and that nothing
// declared here is missing at run time. Keep one member per line.

// ---------------------------------------------------------------------------
// Objects a middleware receives

/** The request as a middleware sees and changes it (Tyk's MiniRequestObject). */
interface TykRequest {
    /** Incoming headers; every value is a list. Names are canonical (`X-Session-Key`). */
    Headers: { [name: string]: string[] };
    /** Headers to set before the next stage (single values). */
    SetHeaders: { [name: string]: string };
    /** Header names to remove. */
    DeleteHeaders: string[];
    /** The body as text (bytes that are not UTF-8 map one per character). */
    Body: string;
    /** Path and query as received; assign a new path to rewrite the request. */
    URL: string;
    /** Query parameters; every value is a list. */
    Params: { [name: string]: string[] };
    /** Query parameters to add (single values). */
    AddParams: { [name: string]: string };
    /** Query parameters to add with several values. */
    ExtendedParams: { [name: string]: string[] };
    /** Query parameter names to remove. */
    DeleteParams: string[];
    /** Set ResponseCode ≥ 400 (or any code with OverrideError) to answer the request yourself. */
    ReturnOverrides: TykReturnOverrides;
    /** True to leave the body as it was. */
    IgnoreBody: boolean;
    /** HTTP method. */
    Method: string;
    /** Path and query, as `request.RequestURI` in Go. */
    RequestURI: string;
    /** `http` or `https`. */
    Scheme: string;
    /** Portcullis extension (Tyk issue 961): the client's IP address as the gateway's socket saw it. Read-only. */
    RemoteAddr: string;
    /** Portcullis extension (Tyk issue 994): the `Host` header the client sent. Read-only. */
    Host: string;
    /** Portcullis extension: `api_id` of the API whose listen path matched. Read-only. */
    APIID: string;
    /** Portcullis extension: `name` of the API whose listen path matched. Read-only. */
    APIName: string;
    /** Portcullis extension: the listen path that matched, e.g. `/forum/`. Read-only. */
    ListenPath: string;
}

/** How a middleware answers a request itself. */
interface TykReturnOverrides {
    /** Status to send; 0 leaves the request alone. */
    ResponseCode: number;
    /** The error message (sent as `{"error": ...}` for error codes). */
    ResponseError: string;
    /** The body to send. */
    ResponseBody: string;
    /** Headers to send with it. */
    ResponseHeaders: { [name: string]: string };
    /** True to send ResponseError as the error even below 400. */
    OverrideError: boolean;
}

/** The session object (Tyk's SessionState JSON); what TykGetKeyData returns, parsed. */
interface TykSession {
    /** Unix seconds after which auth answers 401 "Key has expired, please renew"; 0 never expires. */
    expires: number;
    /** Requests allowed per quota window; -1 means unlimited. */
    quota_max: number;
    /** Requests left in this window. */
    quota_remaining: number;
    /** Window length in seconds. */
    quota_renewal_rate: number;
    /** Unix seconds when the window renews. */
    quota_renews: number;
    /** Requests allowed per `per` seconds. */
    rate: number;
    /** Rate window in seconds. */
    per: number;
    /** Token bucket allowance. */
    allowance: number;
    /** The APIs this key may call, by API ID. */
    access_rights: { [apiID: string]: TykAccessDefinition };
    /** Free-form metadata. */
    meta_data: { [key: string]: any };
    /** A human name for the key. */
    alias: string;
    /** Revoked: auth answers 403 "Key is inactive, please renew". */
    is_inactive: boolean;
    /** Organisation. */
    org_id: string;
    /** Key-level store lifetime in seconds. */
    session_lifetime: number;
    /** Tags. */
    tags: string[];
    /** Unix seconds of the last write, as text. */
    last_updated: string;
    /** Any other field Tyk defines; unknown fields are kept. */
    [field: string]: any;
}

/** One entry of `access_rights`. */
interface TykAccessDefinition {
    api_id: string;
    api_name: string;
    versions: string[];
    allowed_urls: { url: string; methods: string[] }[] | null;
    limit?: any;
    [field: string]: any;
}

/** The third argument of a handler: the API's spec. */
interface TykSpec {
    /** The API ID. */
    APIID: string;
    /** The organisation ID. */
    OrgID: string;
    /** The API definition's `config_data`. */
    config_data: { [key: string]: any };
}

/** The response a response middleware sees and changes. */
interface TykResponse {
    /** Status code. */
    StatusCode: number;
    /** Body as text. */
    Body: string;
    /** Headers; every value is a list. */
    Headers: { [name: string]: string[] };
    /** Headers to set. */
    SetHeaders: { [name: string]: string };
    /** Header names to remove. */
    DeleteHeaders: string[];
}

/** What a virtual endpoint function receives as its request. */
interface TykVirtualRequest {
    Headers: { [name: string]: string[] };
    Body: string;
    URL: string;
    Params: { [name: string]: string[] };
    Scheme: string;
    /** Portcullis extension: the client's IP address. */
    RemoteAddr: string;
    /** Portcullis extension: the `Host` header. */
    Host: string;
    /** Portcullis extension: `api_id` of the matched API. */
    APIID: string;
    /** Portcullis extension: `name` of the matched API. */
    APIName: string;
    /** Portcullis extension: the listen path that matched. */
    ListenPath: string;
}

/** What a virtual endpoint returns through TykJsResponse. */
interface TykVirtualResponse {
    Body: string;
    Headers: { [name: string]: string };
    Code: number;
}

// ---------------------------------------------------------------------------
// The prelude

/** A middleware made with `new TykJS.TykMiddleware.NewMiddleware({})`. */
interface TykMiddleware {
    /** Sets the request handler. Portcullis extension: the handler may be `async` (return a Promise of what it would return). */
    NewProcessRequest(handler: (request: TykRequest, session: TykSession, config: TykSpec) => any | Promise<any>): void;
    /** Sets the response handler. Portcullis extension: the handler may be `async`. */
    NewProcessResponse(handler: (response: TykResponse, request: TykRequest, session: TykSession, config: TykSpec) => any | Promise<any>): void;
    /** What a request handler returns: the changed request and the session's new meta_data. */
    ReturnData(request: TykRequest, sessionMeta: { [key: string]: any }): any;
    /** What an auth_check handler returns: the request and the session it authenticated. */
    ReturnAuthData(request: TykRequest, session: TykSession): any;
    /** What a response handler returns. */
    ReturnResponseData(response: TykResponse, sessionMeta: { [key: string]: any }): any;
    /** Called by the gateway; not for plugins. */
    DoProcessRequest(request: TykRequest, session: TykSession, config: TykSpec): any;
    /** Called by the gateway; not for plugins. */
    DoProcessResponse(response: TykResponse, request: TykRequest, session: TykSession, config: TykSpec): any;
    /** The handler set by NewProcessRequest. */
    ProcessRequest(request: TykRequest, session: TykSession, config: TykSpec): any;
    /** The handler set by NewProcessResponse. */
    ProcessResponse(response: TykResponse, request: TykRequest, session: TykSession, config: TykSpec): any;
}

/** An event handler made with `new TykJS.TykEventHandlers.NewEventHandler({})`. */
interface TykEventHandler {
    NewHandler(handler: (event: any, context: any) => any): void;
    DoProcessEvent(event: any, context: any): any;
    Handle(event: any, context: any): any;
}

declare const TykJS: {
    TykMiddleware: { NewMiddleware: new (configuration: object) => TykMiddleware; MiddlewareComponentMeta: new (configuration: object) => TykMiddleware };
    TykEventHandlers: { NewEventHandler: new (configuration?: object) => TykEventHandler };
};

/** Builds a virtual endpoint's return value. */
declare function TykJsResponse(response: TykVirtualResponse, sessionMeta: { [key: string]: any }): any;

/** `console.log` writes through `log`; `console.info/warn/error` at that level (extension). */
declare const console: {
    log(...values: any[]): void;
    info(...values: any[]): void;
    warn(...values: any[]): void;
    error(...values: any[]): void;
};

// ---------------------------------------------------------------------------
// Bindings

/** Writes a line to the gateway log (info level, type=log-msg). */
declare function log(message: string): void;
/** Extension (Tyk issue 2946): log at a level; arguments are joined with spaces. */
declare namespace log {
    function debug(...values: any[]): void;
    function info(...values: any[]): void;
    function warn(...values: any[]): void;
    function error(...values: any[]): void;
}
/** Writes the text to the log as it is. */
declare function rawlog(message: string): void;
/** Base64 (padded) of the text's UTF-8. */
declare function b64enc(text: string): string;
/** Decodes padded or unpadded base64; undefined (and a warning) when invalid. */
declare function b64dec(encoded: string): string | undefined;
/** Base64 without padding. */
declare function rawb64enc(text: string): string;
/** Decodes unpadded base64. */
declare function rawb64dec(encoded: string): string | undefined;

/**
 * The stored session of `key` as JSON text, or `{"status":"error","message":"Key not found"}`.
 * Expired sessions are returned too. Pass the API ID as the second argument.
 */
declare function TykGetKeyData(key: string, apiID: string): string;

/**
 * Stores a session (JSON text, not an object: use JSON.stringify). Returns only once the
 * store acknowledged it and every node dropped its cached copy, so the auth stage of the
 * same request sees it. Throws on malformed JSON or a fractional `expires`. Pass "1" as
 * the third argument to keep the quota fields as given.
 */
declare function TykSetKeyData(key: string, sessionJSON: string, suppressReset?: string): void;

/** The request TykMakeHttpRequest and TykBatchRequest take (as JSON text). */
interface TykHTTPRequest {
    Method: string;
    /** Scheme, host and port: `https://api.example.com`. */
    Domain: string;
    /** Path and query. */
    Resource: string;
    Headers?: { [name: string]: string };
    Body?: string;
    /** Form fields, sent URL-encoded. */
    FormData?: { [name: string]: string };
    /** Portcullis extension: seconds before giving up (default jsvm_timeout). */
    Timeout?: number;
}

/** The reply of TykMakeHttpRequest (as JSON text); fields in both cases, as Tyk sends them. */
interface TykHTTPResponse {
    Code: number;
    code: number;
    Body: string;
    body: string;
    Headers: { [name: string]: string[] };
    headers: { [name: string]: string[] };
}

/** Sends an HTTP request and waits; undefined (and a warning) when it fails or times out. */
declare function TykMakeHttpRequest(requestJSON: string): string | undefined;

/** `{"requests": [{method, headers, body, relative_url}], "suppress_parallel_execution": false}` against a base URL. */
declare function TykBatchRequest(batchJSON: string): string | undefined;

/** Options of `fetch` (Portcullis extension). */
interface PortcullisFetchOptions {
    /** HTTP method; default GET. */
    method?: string;
    /** Request headers. */
    headers?: { [name: string]: string };
    /** Request body as text. */
    body?: string;
    /** Milliseconds before the request is abandoned and the Promise rejected; default: the gateway's jsvm_timeout (5 s unless configured). */
    timeout?: number;
}

/** What `fetch` resolves with (Portcullis extension). */
interface PortcullisFetchResponse {
    /** HTTP status code. */
    status: number;
    /** True for 2xx. */
    ok: boolean;
    /** Response headers, one comma-joined value per name. */
    headers: { [name: string]: string };
    /** Response body as text. */
    body: string;
    /** The body as text. */
    text(): Promise<string>;
    /** The body parsed as JSON; rejects when it is not JSON. */
    json(): Promise<any>;
}

/**
 * Portcullis extension: starts an HTTP request without blocking the plugin,
 * so several run in parallel (`await Promise.all([fetch(a), fetch(b)])`).
 * Rejects with an Error naming the reason: timeout, connection failure, or a
 * host refused by plugin_http_allow / plugin_http_deny. Use it from an
 * `async` handler; the whole call is still bounded by jsvm_timeout.
 */
declare function fetch(url: string, options?: PortcullisFetchOptions): Promise<PortcullisFetchResponse>;

/** A small key-value store shared by the gateway's plugins; every failure throws. */
declare function TykStorageGet(key: string): string | null;
declare function TykStorageSet(key: string, value: string, ttlSeconds?: number): void;
declare function TykStorageSetNX(key: string, value: string, ttlSeconds?: number): boolean;
declare function TykStorageDel(key: string): number;
declare function TykStorageTTL(key: string): number;
declare function TykStorageIncr(key: string, ttlSeconds?: number): string;
