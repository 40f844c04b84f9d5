/* glyph.c - figure labels ("FIG. 12") drawn as strokes.
 *
 * Each character is a few polylines on a 4 x 6 grid (y down), drawn with a
 * round pen and a forward slant, like the lettering on USPTO drawing
 * sheets. Only what labels need: F, I, G, the full stop, space and digits.
 */
#include "sample/sample_internal.h"

#include <string.h>

#define END 127 /* ends a glyph */
#define UP 126  /* lifts the pen */

/* Points (x, y) in pairs; UP starts a new stroke; END finishes. */
static const signed char *glyph(char ch)
{
    static const signed char F[] = {0, 6, 0, 0, 4, 0, UP, 0, 3, 3, 3, END};
    static const signed char I[] = {2, 0, 2, 6, UP, 1, 0, 3, 0, UP, 1, 6, 3, 6, END};
    static const signed char G[] = {4, 1, 3, 0, 1, 0, 0, 1, 0, 5, 1, 6, 3, 6, 4, 5, 4, 3, 2, 3, END};
    static const signed char dot[] = {0, 6, END};
    static const signed char d[10][40] = {
        {1, 0, 3, 0, 4, 1, 4, 5, 3, 6, 1, 6, 0, 5, 0, 1, 1, 0, END},
        {1, 1, 2, 0, 2, 6, UP, 1, 6, 3, 6, END},
        {0, 1, 1, 0, 3, 0, 4, 1, 4, 2, 0, 6, 4, 6, END},
        {0, 1, 1, 0, 3, 0, 4, 1, 4, 2, 3, 3, 1, 3, UP, 3, 3, 4, 4, 4, 5, 3, 6, 1, 6, 0, 5, END},
        {3, 6, 3, 0, 0, 4, 4, 4, END},
        {4, 0, 0, 0, 0, 3, 3, 3, 4, 4, 4, 5, 3, 6, 0, 6, END},
        {4, 1, 3, 0, 1, 0, 0, 1, 0, 5, 1, 6, 3, 6, 4, 5, 4, 4, 3, 3, 0, 3, END},
        {0, 0, 4, 0, 1, 6, END},
        {1, 0, 3, 0, 4, 1, 4, 2, 3, 3, 1, 3, 0, 2, 0, 1, 1, 0, UP, 1, 3, 0, 4, 0, 5, 1, 6, 3, 6,
         4, 5, 4, 4, 3, 3, END},
        {4, 3, 1, 3, 0, 2, 0, 1, 1, 0, 3, 0, 4, 1, 4, 5, 3, 6, 1, 6, 0, 5, END},
    };
    if (ch >= '0' && ch <= '9')
        return d[ch - '0'];
    switch (ch) {
    case 'F': return F;
    case 'I': return I;
    case 'G': return G;
    case '.': return dot;
    default: return NULL;
    }
}

/* Advance of a character, in grid units. */
static float advance(char ch)
{
    return ch == '.' ? 2.0f : ch == ' ' ? 2.5f : ch == 'I' ? 4.5f : 5.5f;
}

/* A round pen of radius r along the segment (ax, ay) - (bx, by). */
static void stroke(uint8_t *page, int w, int h, float ax, float ay, float bx, float by, float r)
{
    int x0 = (int)floorf(fminf(ax, bx) - r), x1 = (int)ceilf(fmaxf(ax, bx) + r);
    int y0 = (int)floorf(fminf(ay, by) - r), y1 = (int)ceilf(fmaxf(ay, by) + r);
    x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0;
    x1 = x1 >= w ? w - 1 : x1, y1 = y1 >= h ? h - 1 : y1;
    float dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            float t = len2 > 0 ? ((x - ax) * dx + (y - ay) * dy) / len2 : 0;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            float ex = x - (ax + t * dx), ey = y - (ay + t * dy);
            if (ex * ex + ey * ey <= r * r)
                page[(size_t)y * w + x] = 0;
        }
}

int gl_width(const char *text, int height)
{
    float units = 0;
    for (const char *p = text; *p; p++)
        units += advance(*p);
    return (int)(units * height / 6.0f);
}

void gl_text(uint8_t *page, int w, int h, const char *text, int cx, int y, int height)
{
    float unit = height / 6.0f, pen = fmaxf(1.2f, height / 16.0f);
    float x = cx - gl_width(text, height) / 2.0f;
    for (const char *p = text; *p; p++) {
        const signed char *g = glyph(*p);
        for (int i = 0; g && g[i] != END;) {
            if (g[i] == UP) {
                i++;
                continue;
            }
            /* Slant: a sixth of the height leans right at the top. */
            float px = x + g[i] * unit + (6 - g[i + 1]) * unit / 6, py = y + g[i + 1] * unit;
            int dot = g[i + 2] == END || g[i + 2] == UP;
            if (dot)
                stroke(page, w, h, px, py, px, py, pen * 1.3f);
            i += 2;
            while (g[i] != END && g[i] != UP) {
                float qx = x + g[i] * unit + (6 - g[i + 1]) * unit / 6, qy = y + g[i + 1] * unit;
                stroke(page, w, h, px, py, qx, qy, pen);
                px = qx, py = qy;
                i += 2;
            }
        }
        x += advance(*p) * unit;
    }
}
