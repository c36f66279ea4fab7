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
      MiddlewareComponentMeta.prototype.DoProcessRequest = function (request, session, config) {
        var result = this.ProcessRequest(request, session, config);
        if (!result) {
          throw returnError('the handler returned ' + String(result) +
            '; end it with `return <middleware>.ReturnData(request, session.meta_data || {})`');
        }
        if (typeof result.Request !== 'object' || result.Request === null) {
          throw returnError('the returned value has no Request object; return <middleware>.ReturnData(request, {}) ' +
            'rather than the request itself');
        }
        result.Request.Headers = {};
        return JSON.stringify(result);
      };
      MiddlewareComponentMeta.prototype.ProcessResponse = function (response) {
        log('Process Response Not Implemented');
        return { Response: response };
      };
      MiddlewareComponentMeta.prototype.DoProcessResponse = function (response, request, session, config) {
        var result = this.ProcessResponse(response, request, session, config);
        if (!result || typeof result.Response !== 'object' || result.Response === null) {
          throw returnError('a response hook must return <middleware>.ReturnResponseData(response, {})');
        }
        return JSON.stringify(result);
      };

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
    })(this);
    """#
}
