/* log.c: stderr logger. One write(2) per line so concurrent threads never
 * interleave inside a line; redaction happens before anything leaves. */
#include "engine/common/log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static LogLevel g_level = TM_LOG_INFO;
static bool g_json = false;

void log_set_level(LogLevel level) { g_level = level; }
void log_set_json(bool on) { g_json = on; }

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static void module_of(const char *file, char *out, size_t cap)
{
    const char *b = strrchr(file, '/');
    size_t n;
    b = b ? b + 1 : file;
    n = strcspn(b, "_.");
    if (n >= cap) n = cap - 1;
    memcpy(out, b, n);
    out[n] = '\0';
}

static void mask_from(char *p)
{
    /* overwrite a value up to the next separator with '*' (max 3 shown) */
    size_t n = strcspn(p, " \t\n&;,'\"@");
    if (n == 0) return;
    memset(p, '*', n < 3 ? n : 3);
    if (n > 3) memmove(p + 3, p + n, strlen(p + n) + 1);
}

void log_redact(char *s)
{
    static const char *const keys[] = {"password=", "passwd=", "secret=", "token=",
                                       "pass=", "key=", "X-Amz-Security-Token=",
                                       "aws_secret_access_key="};
    char *p;
    /* URL userinfo */
    for (p = strstr(s, "://"); p; p = strstr(p + 3, "://")) {
        char *start = p + 3;
        size_t n = strcspn(start, "/@ \t\n");
        if (start[n] == '@' && n > 0) {
            memmove(start + 3, start + n, strlen(start + n) + 1);
            memcpy(start, "***", 3);
        }
    }
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        size_t kl = strlen(keys[k]);
        for (p = s; *p; p++) {
            if (strncasecmp(p, keys[k], kl) == 0 && (p == s || !isalnum((unsigned char)p[-1])))
                mask_from(p + kl);
        }
    }
}

static void json_escape(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 7 < cap; p++) {
        if (*p == '"' || *p == '\\') { out[o++] = '\\'; out[o++] = (char)*p; }
        else if (*p < 0x20) o += (size_t)snprintf(out + o, cap - o, "\\u%04x", *p);
        else out[o++] = (char)*p;
    }
    out[o] = '\0';
}

void log_write(LogLevel level, const char *file, const char *fmt, ...)
{
    char msg[4096], line[9000], mod[32];
    va_list ap;
    int n;
    if (level > g_level) return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_redact(msg);
    module_of(file, mod, sizeof mod);
    if (g_json) {
        char esc[8500];
        json_escape(msg, esc, sizeof esc);
        n = snprintf(line, sizeof line, "{\"level\":\"%s\",\"module\":\"%s\",\"msg\":\"%s\"}\n",
                     level_names[level], mod, esc);
    } else if (level == TM_LOG_DEBUG) {
        n = snprintf(line, sizeof line, "tidemark: debug [%s]: %s\n", mod, msg);
    } else if (level == TM_LOG_INFO) {
        n = snprintf(line, sizeof line, "%s\n", msg);
    } else {
        n = snprintf(line, sizeof line, "tidemark: %s: %s\n", level_names[level], msg);
    }
    if (n < 0) return;
    if ((size_t)n >= sizeof line) n = (int)sizeof line - 1;
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}
