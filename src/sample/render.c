/* render.c - hidden-line drawings of a mesh, the way patent draughtsmen
 * draw: outlines and creases, shading lines on the dark side of curved
 * surfaces, oblique lines on glass.
 *
 * Rather than clipping edges against faces, every triangle is rasterised
 * into a z-buffer that records which face is visible at each pixel; a line
 * is then wherever two neighbouring pixels see different faces (or the same
 * face at very different depths: a fold). Hidden lines vanish by
 * construction and any view costs the same. Vertices are snapped to 1/16
 * pixel and edge functions are evaluated in integers, so that triangles
 * sharing an edge leave no pixel uncovered: a hole would show as a stray
 * dot.
 */
#include "sample/sample_internal.h"

#include <stdlib.h>
#include <string.h>

#define PI_F 3.14159265358979f
#define SUBPIXEL 16

int sm_canvas_init(sm_canvas *c, int w, int h, ds_err *err)
{
    /* One column and one row of padding, always background: the line finder
     * compares each pixel with its right and lower neighbours unchecked. */
    size_t n = (size_t)(w + 1) * (h + 1);
    memset(c, 0, sizeof *c);
    c->w = w;
    c->h = h;
    c->stride = w + 1;
    c->z = calloc(n, sizeof *c->z);
    c->px = calloc(n, sizeof *c->px);
    if (!c->z || !c->px) {
        sm_canvas_free(c);
        return ds_fail(err, DS_ENOMEM, "sample: out of memory for a %d x %d canvas", w, h);
    }
    /* All of it is to be cleared before the first rendering. */
    c->box[0] = c->box[1] = 0;
    c->box[2] = w - 1;
    c->box[3] = h - 1;
    return 0;
}

void sm_canvas_free(sm_canvas *c)
{
    free(c->z);
    free(c->px);
    memset(c, 0, sizeof *c);
}

/* The camera: right, forward (into the picture) and up, in world terms. */
typedef struct camera {
    float r[3], f[3], u[3];
    float centre[3];
    float dist;          /* perspective: camera distance from the centre; 0 ortho */
    float scale, ox, oy; /* pixels per unit, and the screen position of the centre */
} camera;

static void camera_basis(camera *cam, const sm_view *v)
{
    float az = v->az * PI_F / 180, el = v->el * PI_F / 180;
    float r[3] = {cosf(az), -sinf(az), 0};
    float f[3] = {sinf(az) * cosf(el), cosf(az) * cosf(el), -sinf(el)};
    memcpy(cam->r, r, sizeof r);
    memcpy(cam->f, f, sizeof f);
    cam->u[0] = r[1] * f[2] - r[2] * f[1];
    cam->u[1] = r[2] * f[0] - r[0] * f[2];
    cam->u[2] = r[0] * f[1] - r[1] * f[0];
}

/* World point -> view coordinates (x right, y depth, z up), relative to the
 * centre. */
static void to_view(const camera *cam, const float p[3], float out[3])
{
    float q[3] = {p[0] - cam->centre[0], p[1] - cam->centre[1], p[2] - cam->centre[2]};
    out[0] = q[0] * cam->r[0] + q[1] * cam->r[1] + q[2] * cam->r[2];
    out[1] = q[0] * cam->f[0] + q[1] * cam->f[1] + q[2] * cam->f[2];
    out[2] = q[0] * cam->u[0] + q[1] * cam->u[1] + q[2] * cam->u[2];
}

/* View coordinates -> screen (before scaling when scale is 1, ox = oy = 0). */
static void to_screen(const camera *cam, const float v[3], float *sx, float *sy)
{
    float k = cam->dist > 0 ? cam->dist / (cam->dist + v[1]) : 1;
    *sx = cam->ox + cam->scale * k * v[0];
    *sy = cam->oy - cam->scale * k * v[2];
}

/* Centre the model and scale it to fill `fill` of the canvas. */
static void camera_fit(camera *cam, const sm_mesh *m, const sm_view *v, int w, int h, float fill)
{
    float lo[3] = {1e30f, 1e30f, 1e30f}, hi[3] = {-1e30f, -1e30f, -1e30f};
    for (size_t t = 0; t < m->n; t++)
        for (int k = 0; k < 3; k++)
            for (int a = 0; a < 3; a++) {
                lo[a] = fminf(lo[a], m->tri[t].p[k][a]);
                hi[a] = fmaxf(hi[a], m->tri[t].p[k][a]);
            }
    float size = 0;
    for (int a = 0; a < 3; a++) {
        cam->centre[a] = (lo[a] + hi[a]) / 2;
        size = fmaxf(size, hi[a] - lo[a]);
    }
    cam->dist = v->persp ? 3.5f * size : 0;
    cam->scale = 1;
    cam->ox = cam->oy = 0;
    float sx0 = 1e30f, sy0 = 1e30f, sx1 = -1e30f, sy1 = -1e30f;
    for (size_t t = 0; t < m->n; t++)
        for (int k = 0; k < 3; k++) {
            float vw[3], sx, sy;
            to_view(cam, m->tri[t].p[k], vw);
            to_screen(cam, vw, &sx, &sy);
            sx0 = fminf(sx0, sx), sx1 = fmaxf(sx1, sx);
            sy0 = fminf(sy0, sy), sy1 = fmaxf(sy1, sy);
        }
    float bw = fmaxf(sx1 - sx0, 1e-6f), bh = fmaxf(sy1 - sy0, 1e-6f);
    cam->scale = fill * fminf((float)w / bw, (float)h / bh);
    cam->ox = w / 2.0f - cam->scale * (sx0 + sx1) / 2;
    cam->oy = h / 2.0f - cam->scale * (sy0 + sy1) / 2;
}

/* The (unnormalised) normal of a triangle in view coordinates; solids are
 * wound outward, so it points out of the solid. */
static void normal(float v[3][3], float n[3])
{
    float a[3], b[3];
    for (int k = 0; k < 3; k++)
        a[k] = v[1][k] - v[0][k], b[k] = v[2][k] - v[0][k];
    n[0] = a[1] * b[2] - a[2] * b[1];
    n[1] = a[2] * b[0] - a[0] * b[2];
    n[2] = a[0] * b[1] - a[1] * b[0];
}

/* Whether a triangle faces the camera (the others are the far side of
 * their solid, hidden anyway). */
static int facing(const camera *cam, float v[3][3], const float n[3])
{
    if (cam->dist <= 0)
        return n[1] < 0; /* looking along +y */
    float eye[3] = {-v[0][0], -cam->dist - v[0][1], -v[0][2]};
    return n[0] * eye[0] + n[1] * eye[1] + n[2] * eye[2] > 0;
}

/* Brightness 0..255 of a face turned to the camera, lit from the upper
 * left, in front. */
static uint8_t brightness(const float n[3])
{
    static const float light[3] = {-0.48f, -0.56f, 0.67f};
    float len = sqrtf(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
    if (len <= 0)
        return 0;
    float d = (n[0] * light[0] + n[1] * light[1] + n[2] * light[2]) / len;
    return (uint8_t)(d <= 0 ? 0 : d >= 1 ? 255 : d * 255);
}

static int64_t edge(const int32_t a[2], const int32_t b[2], int64_t px, int64_t py)
{
    return (int64_t)(b[0] - a[0]) * (py - a[1]) - (int64_t)(b[1] - a[1]) * (px - a[0]);
}

/* The pixels of a row where w(x) = w0 + step * (x - x0) >= 0, narrowed
 * from [*lo, *hi]. A division in double finds the crossing (an integer
 * division per edge and row cost more than the pixels); the integer edge
 * function then settles the last pixel exactly, so that neighbouring
 * triangles still meet without gaps. */
static void span(int64_t w0, int64_t step, int x0, int *lo, int *hi)
{
    int64_t width = *hi - x0 + 1;
    if (step == 0) {
        if (w0 < 0)
            *hi = *lo - 1;
    } else if (step > 0) {
        if (w0 < 0) { /* the first k with w0 + step k >= 0 */
            double est = ceil((double)-w0 / (double)step);
            if (est > (double)width) {
                *lo = *hi + 1;
                return;
            }
            int64_t k = (int64_t)est;
            while (w0 + step * k < 0)
                k++;
            while (k > 0 && w0 + step * (k - 1) >= 0)
                k--;
            if (x0 + k > *lo)
                *lo = (int)(x0 + k);
        }
    } else {
        if (w0 < 0) {
            *hi = *lo - 1;
        } else { /* the last k with w0 + step k >= 0 */
            double est = floor((double)w0 / (double)-step);
            if (est >= (double)width)
                return;
            int64_t k = (int64_t)est;
            while (k >= 0 && w0 + step * k < 0)
                k--;
            while (w0 + step * (k + 1) >= 0)
                k++;
            if (x0 + k < *hi)
                *hi = (int)(x0 + k);
        }
    }
}

static void raster_tri(sm_canvas *c, int32_t q[3][2], const float z[3], uint32_t face)
{
    int64_t area = edge(q[0], q[1], q[2][0], q[2][1]);
    if (area == 0)
        return;
    /* Orient every triangle the same way: inside is where all three edge
     * functions are >= 0. */
    int i1 = area > 0 ? 1 : 2, i2 = area > 0 ? 2 : 1;
    const int32_t *a = q[0], *b = q[i1], *cc = q[i2];
    float za = z[0], zb = z[i1], zc = z[i2];
    if (area < 0)
        area = -area;
    int32_t minx = a[0] < b[0] ? a[0] : b[0], maxx = a[0] > b[0] ? a[0] : b[0];
    int32_t miny = a[1] < b[1] ? a[1] : b[1], maxy = a[1] > b[1] ? a[1] : b[1];
    minx = cc[0] < minx ? cc[0] : minx, maxx = cc[0] > maxx ? cc[0] : maxx;
    miny = cc[1] < miny ? cc[1] : miny, maxy = cc[1] > maxy ? cc[1] : maxy;
    int x0 = minx / SUBPIXEL - 1, x1 = maxx / SUBPIXEL + 1;
    int y0 = miny / SUBPIXEL - 1, y1 = maxy / SUBPIXEL + 1;
    x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0;
    x1 = x1 >= c->w ? c->w - 1 : x1, y1 = y1 >= c->h ? c->h - 1 : y1;
    if (x0 > x1 || y0 > y1)
        return;
    c->box[0] = x0 < c->box[0] ? x0 : c->box[0];
    c->box[1] = y0 < c->box[1] ? y0 : c->box[1];
    c->box[2] = x1 > c->box[2] ? x1 : c->box[2];
    c->box[3] = y1 > c->box[3] ? y1 : c->box[3];
    float inv = 1.0f / (float)area;
    int64_t step_a = -(int64_t)(cc[1] - b[1]) * SUBPIXEL; /* edge b->c, weight of a */
    int64_t step_b = -(int64_t)(a[1] - cc[1]) * SUBPIXEL; /* edge c->a, weight of b */
    int64_t step_c = -(int64_t)(b[1] - a[1]) * SUBPIXEL;  /* edge a->b, weight of c */
    float dz = ((float)step_a * za + (float)step_b * zb + (float)step_c * zc) * inv;
    float *zbuf = c->z;
    uint32_t *faces = c->px;
    for (int y = y0; y <= y1; y++) {
        int64_t py = (int64_t)y * SUBPIXEL + SUBPIXEL / 2, px = (int64_t)x0 * SUBPIXEL + SUBPIXEL / 2;
        int64_t wa = edge(b, cc, px, py), wb = edge(cc, a, px, py), wc = edge(a, b, px, py);
        int lo = x0, hi = x1;
        span(wa, step_a, x0, &lo, &hi);
        span(wb, step_b, x0, &lo, &hi);
        span(wc, step_c, x0, &lo, &hi);
        if (lo > hi)
            continue;
        wa += step_a * (lo - x0), wb += step_b * (lo - x0), wc += step_c * (lo - x0);
        /* Depth is linear along the row: step it rather than weigh it. */
        float d = ((float)wa * za + (float)wb * zb + (float)wc * zc) * inv;
        size_t i = (size_t)y * c->stride + lo, end = i + (size_t)(hi - lo);
        for (; i <= end; i++, d += dz) {
            if (!faces[i] || d < zbuf[i]) {
                zbuf[i] = d;
                faces[i] = face;
            }
        }
    }
}

void sm_render(sm_canvas *c, const sm_mesh *m, const sm_view *v, float fill)
{
    camera cam;
    /* Clear what the last rendering touched. Depth needs no clearing: it
     * means nothing where the id is 0. */
    for (int y = c->box[1]; y <= c->box[3]; y++)
        memset(c->px + (size_t)y * c->stride + c->box[0], 0,
               (size_t)(c->box[2] - c->box[0] + 1) * sizeof *c->px);
    c->box[0] = c->box[1] = 1 << 30;
    c->box[2] = c->box[3] = -1;
    if (m->n == 0)
        return;
    camera_basis(&cam, v);
    camera_fit(&cam, m, v, c->w, c->h, fill);
    c->pixel = 1 / cam.scale;
    for (size_t t = 0; t < m->n; t++) {
        float vw[3][3], z[3];
        int32_t q[3][2];
        for (int k = 0; k < 3; k++) {
            float sx, sy;
            to_view(&cam, m->tri[t].p[k], vw[k]);
            to_screen(&cam, vw[k], &sx, &sy);
            q[k][0] = (int32_t)lrintf(sx * SUBPIXEL);
            q[k][1] = (int32_t)lrintf(sy * SUBPIXEL);
            z[k] = vw[k][1];
        }
        float n[3];
        normal(vw, n);
        if (!facing(&cam, vw, n))
            continue;
        const sm_tri *tr = &m->tri[t];
        raster_tri(c, q, z, tr->id << 19 | (uint32_t)(tr->sub & SM_SUB_MASK) << 8 | brightness(n));
    }
}

/* How many facets apart shading lines are at a brightness: none on the lit
 * side, closer together the darker it gets. */
static int shade_step(uint8_t light)
{
    return light < 45 ? 1 : light < 90 ? 2 : light < 125 ? 4 : 0;
}

static void mark(uint8_t *page, int stride, int x, int y, int box[4])
{
    page[(size_t)y * stride + x] = 0;
    box[0] = x < box[0] ? x : box[0];
    box[1] = y < box[1] ? y : box[1];
    box[2] = x > box[2] ? x : box[2];
    box[3] = y > box[3] ? y : box[3];
}


/* Whether pixels i and j = i + step see different things, and so are
 * separated by a line: 2 an outline, crease or fold (both pixels inked), 1
 * a shading line (one), 0 none. */
static int separation(const sm_canvas *c, const sm_mesh *m, size_t i, size_t step)
{
    size_t j = i + step;
    uint32_t a = c->px[i], b = c->px[j], id = a >> 19;
    if ((a ^ b) >> 19)
        return 2;
    if (!a)
        return 0;
    /* A fold: the depth jumps between these two pixels much more than
     * beside them (a surface seen edge-on changes depth fast, but evenly).
     * The pixels beside are inside the buffer or its padding (id 0). */
    float d1 = fabsf(c->z[j] - c->z[i]);
    if (d1 > 4 * c->pixel) {
        float d0 = i >= step && c->px[i - step] >> 19 == id ? fabsf(c->z[i] - c->z[i - step]) : 0;
        float d2 = c->px[j + step] >> 19 == id ? fabsf(c->z[j + step] - c->z[j]) : 0;
        if (d1 > 3 * (d0 > d2 ? d0 : d2))
            return 2;
    }
    int sa = (int)(a >> 8 & SM_SUB_MASK), sb = (int)(b >> 8 & SM_SUB_MASK);
    if (m->mat[id] != SM_SMOOTH || sa == sb)
        return 0;
    /* The boundary's number: the higher facet, or 0 across the seam. */
    int bound = abs(sa - sb) == 1 ? (sa > sb ? sa : sb) : 0;
    uint8_t la = (uint8_t)a, lb = (uint8_t)b;
    int shade = shade_step(la < lb ? la : lb);
    return shade && bound % shade == 0 ? 1 : 0;
}

void sm_ink(const sm_canvas *c, const sm_mesh *m, uint8_t *page, int stride, int x0, int y0,
            int box[4])
{
    box[0] = box[1] = 1 << 30;
    box[2] = box[3] = -1;
    if (c->box[2] < c->box[0])
        return;
    size_t st = (size_t)c->stride;
    float flat = 4 * c->pixel;
    /* Outside the rendered box every pixel is background: only its edge and
     * what is inside can hold a line. */
    int xa = c->box[0] > 0 ? c->box[0] - 1 : 0, ya = c->box[1] > 0 ? c->box[1] - 1 : 0;
    for (int y = ya; y <= c->box[3]; y++) {
        const uint32_t *row = c->px + (size_t)y * st;
        const float *zr = c->z + (size_t)y * st;
        for (int x = xa; x <= c->box[2]; x++) {
            uint32_t a = row[x], r = row[x + 1], d = row[x + st];
            /* The common cases, quickly: paper all round, or one facet
             * whose depth runs on smoothly. */
            if ((a | r | d) == 0)
                continue;
            if (a == r && a == d && fabsf(zr[x + 1] - zr[x]) <= flat &&
                fabsf(zr[x + st] - zr[x]) <= flat && m->mat[a >> 19] != SM_GLASS)
                continue;
            size_t i = (size_t)y * st + x;
            int s = separation(c, m, i, 1);
            if (s)
                mark(page, stride, x0 + x, y0 + y, box);
            if (s == 2)
                mark(page, stride, x0 + x + 1, y0 + y, box);
            s = separation(c, m, i, st);
            if (s)
                mark(page, stride, x0 + x, y0 + y, box);
            if (s == 2)
                mark(page, stride, x0 + x, y0 + y + 1, box);
            /* Glass: groups of three oblique lines across the face. */
            if (a && m->mat[a >> 19] == SM_GLASS) {
                int t = (x + y) % 97;
                if (t == 0 || t == 7 || t == 14)
                    mark(page, stride, x0 + x, y0 + y, box);
            }
        }
    }
}
