#ifndef PORTCULLIS_CJAVASCRIPTCORE_SHIM_H
#define PORTCULLIS_CJAVASCRIPTCORE_SHIM_H

#include <JavaScriptCore/JavaScript.h>
#include <stdbool.h>

/*
 * Exported by libjavascriptcoregtk but declared only in JSContextRefPrivate.h,
 * which the Debian -dev package does not ship. The watchdog calls the callback
 * once a single entry into the VM has run longer than `limit` seconds; returning
 * true terminates the running script with an uncatchable exception.
 */
typedef bool (*JSShouldTerminateCallback)(JSContextRef ctx, void *context);
JS_EXPORT void JSContextGroupSetExecutionTimeLimit(JSContextGroupRef group, double limit,
                                                   JSShouldTerminateCallback callback, void *context);
JS_EXPORT void JSContextGroupClearExecutionTimeLimit(JSContextGroupRef group);

/*
 * Also exported but declared only in JSBasePrivate.h: collects the heap of the
 * context's group in full, at once, on the calling thread.
 */
JS_EXPORT void JSSynchronousGarbageCollectForDebugging(JSContextRef ctx);

#endif
