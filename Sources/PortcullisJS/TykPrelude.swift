/// The JavaScript every realm loads before any plugin: Tyk's middleware
/// constructors and helpers, plus a `Date` that follows the engine's clock.
///
/// Kept as a Swift string rather than a bundle resource so the `portcullis`
/// binary works wherever it is copied to.
enum TykPrelude {
    /// Path shown for errors raised inside the prelude itself.
    static let path = "portcullis:prelude.js"

    static let source = #"""
    (function (global) {
      var clockNow = global.__portcullisNow;
      delete global.__portcullisNow;
      var SystemDate = global.Date;
      function ClockDate() {
        if (!new.target) { return new SystemDate(clockNow()).toString(); }
        var args = arguments.length === 0 ? [clockNow()] : Array.prototype.slice.call(arguments);
        return Reflect.construct(SystemDate, args, new.target);
      }
      ClockDate.prototype = SystemDate.prototype;
      Object.defineProperty(SystemDate.prototype, 'constructor', { value: ClockDate, writable: true, configurable: true });
      ClockDate.now = function () { return Math.floor(clockNow()); };
      ClockDate.parse = SystemDate.parse;
      ClockDate.UTC = SystemDate.UTC;
      global.Date = ClockDate;

      function returnError(message) {
        var error = new TypeError(message);
        error.name = 'PluginReturnError';
        return error;
      }

      function MiddlewareComponentMeta(configuration) {
        this.configuration = configuration;
      }
      MiddlewareComponentMeta.prototype.ProcessRequest = function (request) {
        log('Process Request Not Implemented');
        return request;
      };
      function isThenable(value) {
        return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function';
      }
      // A handler may return a Promise (an extension): the result is checked once it settles.
      MiddlewareComponentMeta.prototype.DoProcessRequest = function (request, session, config) {
        var result = this.ProcessRequest(request, session, config);
        return isThenable(result) ? result.then(finishRequest) : finishRequest(result);
      };
      // What the engine calls, with the middleware as `this`, when its
      // DoProcessRequest is the one above: the same checks, with the result
      // left as an object for the engine to read. The engine takes it and
      // removes the global before any plugin loads.
      // When the handler changed nothing the engine reads, it answers a
      // number instead of the object (0: SessionMeta {}, 1: no SessionMeta),
      // so the engine reads no field at all.
      //
      // It also counts the enumerable own globals before the first call and
      // after each synchronous one, and tells the engine only when the count
      // moved: the engine then lists them and removes what the call added
      // (JSRealm+Globals). Counting here costs about half of listing the
      // names through the C API on every call.
      var ownKeys = Object.keys;
      var globalsMoved = global.__portcullisGlobalsMoved;
      delete global.__portcullisGlobalsMoved;
      var globalCount = -1;
      //
      // A handler whose DoProcessRequest is not the prelude's is called here
      // as it is, and the engine is told so (and whether it has one at all)
      // and reads the result as that method's own; the engine then lists the
      // globals itself. Looking the method up here, rather than through the
      // C API before the call, costs the engine one property read less.
      var preludeDoProcess = MiddlewareComponentMeta.prototype.DoProcessRequest;
      var ownMethod = global.__portcullisOwnMethod;
      delete global.__portcullisOwnMethod;
      var applyFunction = Reflect.apply;
      // The engine passes the spec object it parsed once for the API; each
      // call gets its own copy, as a parse of the spec's JSON would give,
      // so what one call does to it never reaches the next.
      var isArray = Array.isArray, defineOwn = Object.defineProperty;
      function copyJSON(value) {
        if (typeof value !== 'object' || value === null) { return value; }
        var index, count;
        if (isArray(value)) {
          count = value.length;
          var list = new Array(count);
          for (index = 0; index < count; index++) { list[index] = copyJSON(value[index]); }
          return list;
        }
        var copy = {}, keys = ownKeys(value);
        for (index = 0; index < keys.length; index++) {
          var key = keys[index];
          if (key === '__proto__') {
            defineOwn(copy, key, { value: copyJSON(value[key]), enumerable: true, writable: true, configurable: true });
          } else {
            copy[key] = copyJSON(value[key]);
          }
        }
        return copy;
      }
      global.__portcullisProcessRequest = function (request, session, config) {
        config = copyJSON(config);
        var method = this.DoProcessRequest;
        if (method !== preludeDoProcess) {
          var callable = typeof method === 'function';
          ownMethod(callable);
          return callable ? applyFunction(method, this, [request, session, config]) : undefined;
        }
        if (globalCount < 0) { globalCount = ownKeys(global).length; }
        var url = request.URL, body = request.Body;
        var result = this.ProcessRequest(request, session, config);
        function settled(value) {
          var checked = checkRequest(value);
          return unchanged(checked.Request, url, body) ? metaCode(checked) : checked;
        }
        if (isThenable(result)) { return result.then(settled); }
        var answer = settled(result);
        if (ownKeys(global).length !== globalCount) { globalsMoved(); }
        return answer;
      };
      var own = Object.prototype.hasOwnProperty;
      function emptyPlain(value) {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) { return false; }
        for (var key in value) { if (own.call(value, key)) { return false; } }
        return typeof value.toJSON !== 'function';
      }
      function emptyList(value) { return Array.isArray(value) && value.length === 0; }
      function textOrNothing(value) { return value === undefined || value === null || typeof value === 'string'; }
      function listMapOfText(value) {
        if (value === undefined || value === null) { return true; }
        if (typeof value !== 'object' || Array.isArray(value) || typeof value.toJSON === 'function') { return false; }
        for (var key in value) {
          if (!own.call(value, key)) { continue; }
          var list = value[key];
          if (list === null || list === undefined || typeof list === 'function') { continue; }
          if (!Array.isArray(list)) { return false; }
          for (var i = 0; i < list.length; i++) { if (typeof list[i] !== 'string') { return false; } }
        }
        return true;
      }
      function unchanged(r, url, body) {
        var o = r.ReturnOverrides;
        return r.URL === url && r.Body === body && (r.IgnoreBody === false || r.IgnoreBody === undefined) &&
          emptyPlain(r.SetHeaders) && emptyList(r.DeleteHeaders) && emptyPlain(r.AddParams) &&
          emptyPlain(r.ExtendedParams) && emptyList(r.DeleteParams) &&
          typeof o === 'object' && o !== null && o.ResponseCode === 0 && o.ResponseError === '' && o.ResponseBody === '' &&
          o.OverrideError === false && emptyPlain(o.ResponseHeaders) &&
          listMapOfText(r.Params) && textOrNothing(r.Method) && textOrNothing(r.RequestURI) && textOrNothing(r.Scheme);
      }
      function metaCode(result) {
        var nothing = function (value) { return value === undefined || value === null; };
        if (!nothing(result.Session) || !nothing(result.AuthValue)) { return result; }
        if (nothing(result.SessionMeta)) { return 1; }
        return emptyPlain(result.SessionMeta) ? 0 : result;
      }
      function finishRequest(result) {
        return JSON.stringify(checkRequest(result));
      }
      function checkRequest(result) {
        if (!result) {
          throw returnError('the handler returned ' + String(result) +
            '; end it with `return <middleware>.ReturnData(request, session.meta_data || {})`');
        }
        if (typeof result.Request !== 'object' || result.Request === null) {
          throw returnError('the returned value has no Request object; return <middleware>.ReturnData(request, {}) ' +
            'rather than the request itself');
        }
        result.Request.Headers = {};
        return result;
      }
      MiddlewareComponentMeta.prototype.ProcessResponse = function (response) {
        log('Process Response Not Implemented');
        return { Response: response };
      };
      MiddlewareComponentMeta.prototype.DoProcessResponse = function (response, request, session, config) {
        var result = this.ProcessResponse(response, request, session, config);
        return isThenable(result) ? result.then(finishResponse) : finishResponse(result);
      };
      function finishResponse(result) {
        if (!result || typeof result.Response !== 'object' || result.Response === null) {
          throw returnError('a response hook must return <middleware>.ReturnResponseData(response, {})');
        }
        return JSON.stringify(result);
      }

      function NewMiddleware(configuration) {
        MiddlewareComponentMeta.call(this, configuration);
      }
      NewMiddleware.prototype = Object.create(MiddlewareComponentMeta.prototype);
      NewMiddleware.prototype.constructor = NewMiddleware;
      NewMiddleware.prototype.NewProcessRequest = function (handler) { this.ProcessRequest = handler; };
      NewMiddleware.prototype.NewProcessResponse = function (handler) { this.ProcessResponse = handler; };
      NewMiddleware.prototype.ReturnData = function (request, sessionMeta) {
        return { Request: request, SessionMeta: sessionMeta };
      };
      NewMiddleware.prototype.ReturnAuthData = function (request, session) {
        return { Request: request, Session: session };
      };
      NewMiddleware.prototype.ReturnResponseData = function (response, sessionMeta) {
        return { Response: response, SessionMeta: sessionMeta };
      };

      function NewEventHandler() {}
      NewEventHandler.prototype.NewHandler = function (handler) { this.Handle = handler; };
      NewEventHandler.prototype.DoProcessEvent = function (event, context) { return this.Handle(event, context); };

      global.TykJS = {
        TykMiddleware: { MiddlewareComponentMeta: MiddlewareComponentMeta, NewMiddleware: NewMiddleware },
        TykEventHandlers: { NewEventHandler: NewEventHandler }
      };
      global.TykJsResponse = function (response, sessionMeta) {
        return JSON.stringify({ Response: response, SessionMeta: sessionMeta });
      };
      var levelled = global.__portcullisLog;
      delete global.__portcullisLog;
      function leveller(level) {
        return function () { levelled(level, Array.prototype.map.call(arguments, String).join(' ')); };
      }
      global.log.debug = leveller("debug");
      global.log.info = leveller("info");
      global.log.warn = leveller("warn");
      global.log.error = leveller("error");
      global.console = {
        log: function () { log(Array.prototype.map.call(arguments, String).join(' ')); },
        info: leveller("info"),
        warn: leveller("warn"),
        error: leveller("error")
      };

      // fetch(url, {method, headers, body, timeout}) (an extension): a
      // Promise of {status, ok, headers, body, text(), json()}; timeout in
      // milliseconds. Requests run in parallel; TykMakeHttpRequest blocks.
      var startFetch = global.__portcullisFetch;
      delete global.__portcullisFetch;
      var pending = {};
      global.fetch = function (url, options) {
        options = options || {};
        var millis = options.timeout === undefined ? 0 : Number(options.timeout);
        var id = startFetch(JSON.stringify({
          Method: options.method ? String(options.method) : 'GET', Domain: String(url), Resource: '',
          Headers: options.headers || {}, Body: options.body === undefined ? '' : String(options.body),
          Timeout: millis > 0 ? millis / 1000 : 0
        }));
        return new Promise(function (resolve, reject) { pending[id] = { resolve: resolve, reject: reject }; });
      };
      // The engine's own entry points: not enumerable (otto has no such
      // globals, so a plugin listing the globals does not see them) and
      // fixed, so a plugin cannot replace them.
      function engineEntry(name, body) {
        Object.defineProperty(global, name, { value: body, enumerable: false, writable: false, configurable: false });
      }
      engineEntry('__portcullisDeliver', function (id, ok, payload) {
        var waiting = pending[id];
        delete pending[id];
        if (!waiting) { return; }
        if (!ok) { waiting.reject(new Error(payload)); return; }
        var response = JSON.parse(payload);
        response.ok = response.status >= 200 && response.status < 300;
        response.text = function () { return Promise.resolve(response.body); };
        response.json = function () { return Promise.resolve().then(function () { return JSON.parse(response.body); }); };
        waiting.resolve(response);
      });
      engineEntry('__portcullisWatch', function (promise) {
        var box = { state: 'pending' };
        Promise.resolve(promise).then(function (value) { box.state = 'ok'; box.value = value; },
                                      function (error) { box.state = 'error'; box.error = error; });
        return box;
      });
    })(this);
    """#
}
