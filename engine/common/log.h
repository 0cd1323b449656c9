/* log.h: leveled logging to stderr, each line tagged with the source file's
 * module. The engine returns errors and does not log them; only cli/ and
 * scheduler/ report failures. Every line passes through log_redact(). */
#ifndef TM_COMMON_LOG_H
#define TM_COMMON_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* TM_ prefix: syslog.h already owns LOG_INFO and LOG_DEBUG. */
typedef enum LogLevel {
    TM_LOG_ERROR = 0,
    TM_LOG_WARN = 1,
    TM_LOG_INFO = 2,
    TM_LOG_DEBUG = 3,
} LogLevel;

void log_set_level(LogLevel level);
/* Lines become one JSON object each: {"level":..,"module":..,"msg":..}. */
void log_set_json(bool on);

void log_write(LogLevel level, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(...) log_write(TM_LOG_ERROR, __FILE__, __VA_ARGS__)
#define log_warn(...) log_write(TM_LOG_WARN, __FILE__, __VA_ARGS__)
#define log_info(...) log_write(TM_LOG_INFO, __FILE__, __VA_ARGS__)
#define log_debug(...) log_write(TM_LOG_DEBUG, __FILE__, __VA_ARGS__)

/* Replace credentials in s (in place, same or shorter length): the userinfo
 * of URLs (user:pass@ after the scheme becomes ***@), and the values of
 * password=, passwd=, secret=, token=, key= style assignments. */
void log_redact(char *s);

#endif
