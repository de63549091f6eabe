/* Text from files and from users, made safe for where mtbert writes it.
 * On a terminal outside curses, a field quoted in an error message must not
 * be able to set the terminal's title, move its cursor or write its
 * clipboard (OSC 52), so control bytes and invalid UTF-8 are shown as
 * visible escapes, as git and GNU ls do.  In JSON, a strict parser rejects
 * invalid UTF-8, so it becomes U+FFFD (jansson escapes the controls). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "front.h"

size_t fe_visible(char *out, size_t cap, const char *text)
{
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    size_t len = strlen((const char *)s), used = 0;
    bool cut = false;
    for (size_t i = 0; i < len && !cut;) {
        char esc[8];
        const char *piece = esc;
        size_t n;
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (k <= 0) { /* not UTF-8: one byte, in hex */
            n = (size_t)snprintf(esc, sizeof esc, "\\x%02x", s[i]);
            k = 1;
        } else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
            /* C0, DEL and the C1 controls (a terminal may act on those too) */
            n = (size_t)snprintf(esc, sizeof esc, "\\%03o", (unsigned)cp & 0xff);
            if (cp >= 0x80)
                n = (size_t)snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
        } else {
            piece = (const char *)s + i;
            n = (size_t)k;
        }
        if (used + n + 1 > cap) {
            cut = true;
            break;
        }
        memcpy(out + used, piece, n);
        used += n;
        i += (size_t)k;
    }
    if (cap > 0)
        out[used] = '\0';
    return used;
}

json_t *fe_json_text(const char *text)
{
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    size_t len = strlen((const char *)s);
    /* each bad byte becomes three: U+FFFD is EF BF BD */
    char *clean = malloc(3 * len + 1);
    if (!clean)
        return NULL;
    size_t used = 0;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (k <= 0) {
            memcpy(clean + used, "\xef\xbf\xbd", 3);
            used += 3;
            i++;
        } else {
            memcpy(clean + used, s + i, (size_t)k);
            used += (size_t)k;
            i += (size_t)k;
        }
    }
    json_t *j = json_stringn(clean, used);
    free(clean);
    return j;
}
