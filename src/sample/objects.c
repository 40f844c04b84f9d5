/* objects.c - the articles: one builder per Locarno class, each a fixed
 * construction (a chair is a seat, legs and a back) whose proportions and
 * details come from the generator. Articles of one class therefore share
 * their silhouette and differ from the other classes, as real design
 * patents of one class do.
 *
 * Units are metres; z is up and the article's front faces -y (towards the
 * viewer of the front view).
 */
#include "sample/sample_internal.h"

#include <string.h>

#define SEGS 48

/* ---- shapes used by several builders ------------------------------------- */

/* A rounded rectangle w x h (corner radius r) centred on the origin, into
 * out (at least 4 * (per + 1) points). Returns the number of points. */
static int rounded_rect(float (*out)[2], float w, float h, float r, int per)
{
    static const float cx[4] = {1, -1, -1, 1}, cy[4] = {1, 1, -1, -1};
    int n = 0;
    r = fminf(r, 0.49f * fminf(w, h));
    for (int c = 0; c < 4; c++)
        for (int i = 0; i <= per; i++) {
            float a = (c * 90.0f + 90.0f * i / per) * 3.14159265f / 180;
            out[n][0] = cx[c] * (w / 2 - r) + r * cosf(a);
            out[n][1] = cy[c] * (h / 2 - r) + r * sinf(a);
            n++;
        }
    return n;
}

/* An ellipse of semi-axes a, b into out[n]. */
static void ellipse(float (*out)[2], int n, float a, float b)
{
    for (int i = 0; i < n; i++) {
        float t = 2 * 3.14159265f * i / n;
        out[i][0] = a * cosf(t);
        out[i][1] = b * sinf(t);
    }
}

static void sphere(sm_mesh *m, const sm_xf *xf, float r)
{
    float rz[13][2];
    for (int i = 0; i <= 12; i++) {
        float t = 3.14159265f * i / 12;
        rz[i][0] = r * sinf(t);
        rz[i][1] = -r * cosf(t);
    }
    rz[0][0] = rz[12][0] = 0;
    sm_revolve(m, xf, (const float(*)[2])rz, 13, 24);
}

/* A frame whose local x, y, z are the world's y, z, x: for profiles drawn
 * from the side (y forward, z up) and extruded across (x). */
static sm_xf side_frame(float x, float y, float z)
{
    sm_xf xf = {{x, y, z}, {0, 0, 1, 1, 0, 0, 0, 1, 0}};
    return xf;
}

/* ---- 06-01 seats ---------------------------------------------------------- */

enum { CHAIR_PANEL, CHAIR_SLATS, CHAIR_ARMS, CHAIR_OFFICE, CHAIR_STOOL };

static void chair_legs(sm_mesh *m, ds_prng *r, float sw, float sd, float sh, float leg)
{
    int round = ds_prng_uniform(r) < 0.4f;
    float splay = sp_range(r, 0, 5);
    for (int i = 0; i < 4; i++) {
        float x = (i & 1 ? 1 : -1) * (sw / 2 - leg), y = (i & 2 ? 1 : -1) * (sd / 2 - leg);
        sm_xf xf = sm_at(x, y, sh / 2);
        xf = sm_rot(xf, 1, (i & 1 ? 1 : -1) * splay);
        if (round)
            sm_cylinder(m, &xf, leg / 2, sh, 16);
        else
            sm_box(m, &xf, leg, leg, sh);
    }
    if (ds_prng_uniform(r) < 0.5f) { /* stretchers between the legs */
        float z = sh * sp_range(r, 0.2f, 0.35f), t = leg * 0.6f;
        sm_xf a = sm_at(-(sw / 2 - leg), 0, z), b = sm_at(sw / 2 - leg, 0, z);
        sm_box(m, &a, t, sd - 2 * leg, t);
        sm_box(m, &b, t, sd - 2 * leg, t);
    }
}

static void chair_back(sm_mesh *m, ds_prng *r, int style, float sw, float sd, float sh,
                       float leg)
{
    float bh = sp_range(r, 0.34f, 0.50f), tilt = sp_range(r, 3, 14);
    sm_xf pivot = sm_rot(sm_at(0, sd / 2 - leg, sh), 0, -tilt);
    for (int s = -1; s <= 1; s += 2) { /* the two back posts */
        sm_xf xf = sm_move(pivot, s * (sw / 2 - leg), 0, bh / 2);
        sm_box(m, &xf, leg, leg, bh);
    }
    float inner = sw - 2 * leg;
    if (style == CHAIR_SLATS) {
        float rail = sp_range(r, 0.05f, 0.09f);
        sm_xf top = sm_move(pivot, 0, 0, bh - rail / 2);
        sm_box(m, &top, inner, leg * 0.8f, rail);
        int n = sp_int(r, 3, 5);
        float h = bh - rail - 0.06f, sl = inner / (2 * n + 1);
        for (int i = 0; i < n; i++) {
            sm_xf xf = sm_move(pivot, -inner / 2 + sl * (2 * i + 1.5f), 0, 0.06f + h / 2);
            sm_box(m, &xf, sl, leg * 0.5f, h);
        }
    } else {
        float ph = sp_range(r, 0.35f, 0.75f) * bh;
        sm_xf xf = sm_move(pivot, 0, 0, bh - ph / 2 - 0.01f);
        sm_box(m, &xf, inner, sp_range(r, 0.015f, 0.03f), ph);
    }
}

static void office_chair(sm_mesh *m, ds_prng *r, float sw, float sd, float sh)
{
    float pts[64][2], t = sp_range(r, 0.06f, 0.09f);
    int n = rounded_rect(pts, sw, sd, sp_range(r, 0.05f, 0.15f), 6);
    sm_xf seat = sm_at(0, 0, sh - t / 2);
    sm_extrude(m, &seat, (const float(*)[2])pts, n, t);
    float bw = sw * sp_range(r, 0.85f, 1.0f), bh = sp_range(r, 0.40f, 0.60f);
    n = rounded_rect(pts, bw, bh, sp_range(r, 0.04f, 0.18f), 6);
    sm_xf back = sm_rot(sm_at(0, sd / 2 + 0.02f, sh + 0.08f + bh / 2), 0, 90 - sp_range(r, 5, 15));
    sm_extrude(m, &back, (const float(*)[2])pts, n, sp_range(r, 0.04f, 0.07f));
    sm_xf bar = sm_at(0, sd / 2, sh + 0.02f);
    sm_box(m, &bar, 0.05f, 0.03f, 0.16f);
    float base = sp_range(r, 0.10f, 0.14f);
    sm_xf col = sm_at(0, 0, (sh - t + base) / 2);
    sm_cylinder(m, &col, sp_range(r, 0.02f, 0.03f), sh - t - base, 24);
    float arm = sp_range(r, 0.28f, 0.34f);
    for (int i = 0; i < 5; i++) {
        sm_xf leg = sm_move(sm_rot(sm_at(0, 0, base * 0.7f), 2, 72.0f * i + 18), arm / 2, 0, 0);
        sm_box(m, &leg, arm, 0.04f, 0.035f);
        sm_xf wheel = sm_move(sm_rot(sm_at(0, 0, 0.03f), 2, 72.0f * i + 18), arm - 0.02f, 0, 0);
        sm_xf axle = sm_rot(wheel, 1, 90);
        sm_cylinder(m, &axle, 0.03f, 0.025f, 16);
    }
    if (ds_prng_uniform(r) < 0.6f) /* armrests */
        for (int s = -1; s <= 1; s += 2) {
            sm_xf post = sm_at(s * sw * 0.46f, 0.02f, sh + 0.1f);
            sm_box(m, &post, 0.03f, 0.04f, 0.2f);
            sm_xf pad = sm_at(s * sw * 0.46f, 0.0f, sh + 0.21f);
            sm_box(m, &pad, 0.06f, sd * 0.55f, 0.03f);
        }
}

static void stool(sm_mesh *m, ds_prng *r, float sw, float sh)
{
    float rs = sw / 2, t = sp_range(r, 0.03f, 0.06f);
    sm_xf seat = sm_at(0, 0, sh - t / 2);
    sm_cylinder(m, &seat, rs, t, SEGS);
    int legs = sp_int(r, 3, 4);
    float spread = sp_range(r, 1.05f, 1.3f), lr = sp_range(r, 0.012f, 0.02f);
    float ring = sh * sp_range(r, 0.25f, 0.4f);
    for (int i = 0; i < legs; i++) {
        float a = (360.0f / legs * i + 45) * 3.14159265f / 180;
        float top[3] = {0.7f * rs * cosf(a), 0.7f * rs * sinf(a), sh - t};
        float foot[3] = {spread * rs * cosf(a), spread * rs * sinf(a), 0};
        const float path[2][3] = {{foot[0], foot[1], foot[2]}, {top[0], top[1], top[2]}};
        sm_tube(m, path, 2, lr, 12);
    }
    float rr = rs * (spread - (spread - 0.7f) * ring / (sh - t)), loop[25][3];
    for (int i = 0; i <= 24; i++) {
        float a = 2 * 3.14159265f * i / 24;
        loop[i][0] = rr * cosf(a), loop[i][1] = rr * sinf(a), loop[i][2] = ring;
    }
    sm_tube(m, (const float(*)[3])loop, 25, lr * 0.7f, 10);
}

static void build_chair(sm_mesh *m, ds_prng *r, int style)
{
    float sw = sp_range(r, 0.42f, 0.54f), sd = sp_range(r, 0.40f, 0.50f);
    float sh = sp_range(r, 0.42f, 0.48f), leg = sp_range(r, 0.025f, 0.045f);
    if (style == CHAIR_OFFICE) {
        office_chair(m, r, sw, sd, sh);
        return;
    }
    if (style == CHAIR_STOOL) {
        stool(m, r, sw * 0.8f, sh + sp_range(r, 0.0f, 0.3f));
        return;
    }
    float st = sp_range(r, 0.03f, 0.07f);
    sm_xf seat = sm_at(0, 0, sh - st / 2);
    sm_box(m, &seat, sw, sd, st);
    chair_legs(m, r, sw, sd, sh - st, leg);
    chair_back(m, r, style, sw, sd, sh, leg);
    if (style == CHAIR_ARMS) {
        float ah = sp_range(r, 0.18f, 0.25f);
        for (int s = -1; s <= 1; s += 2) {
            sm_xf post = sm_at(s * (sw / 2 - leg), -sd / 2 + leg, sh + ah / 2);
            sm_box(m, &post, leg, leg, ah);
            sm_xf arm = sm_at(s * (sw / 2 - leg), 0.02f, sh + ah);
            sm_box(m, &arm, leg * 1.6f, sd + 0.04f, leg);
        }
    }
}

/* ---- 07-01 cups ------------------------------------------------------------ */

enum { CUP_MUG, CUP_TUMBLER, CUP_SAUCER, CUP_TRAVEL };

static void build_cup(sm_mesh *m, ds_prng *r, int style)
{
    float h = sp_range(r, 0.08f, 0.12f), r0 = sp_range(r, 0.030f, 0.042f);
    float r1 = style == CUP_TUMBLER ? r0 * sp_range(r, 1.2f, 1.45f) : r0 * sp_range(r, 0.95f, 1.15f);
    float bulge = style == CUP_SAUCER ? sp_range(r, 0.004f, 0.012f) : sp_range(r, -0.003f, 0.005f);
    float t = 0.004f, foot = sp_range(r, 0.002f, 0.006f), rz[24][2];
    int n = 0;
    rz[n][0] = 0, rz[n][1] = 0, n++;
    rz[n][0] = r0 - foot, rz[n][1] = 0, n++;
    for (int i = 0; i <= 8; i++) { /* the wall, bottom to rim */
        float f = i / 8.0f;
        rz[n][0] = r0 + (r1 - r0) * f + bulge * sinf(3.14159265f * f), rz[n][1] = foot + (h - foot) * f;
        n++;
    }
    rz[n][0] = r1 - t, rz[n][1] = h, n++;
    for (int i = 7; i >= 1; i -= 2) { /* the inside, rim to bottom */
        float f = i / 8.0f;
        rz[n][0] = r0 + (r1 - r0) * f + bulge * sinf(3.14159265f * f) - t;
        rz[n][1] = foot + (h - foot) * f;
        n++;
    }
    rz[n][0] = r0 - t, rz[n][1] = t + foot, n++;
    rz[n][0] = 0, rz[n][1] = t + foot, n++;
    float lift = style == CUP_SAUCER ? 0.008f : 0;
    sm_xf xf = sm_at(0, 0, lift);
    sm_revolve(m, &xf, (const float(*)[2])rz, n, SEGS);
    if (style == CUP_SAUCER) {
        float rs = r1 * sp_range(r, 1.6f, 2.0f);
        const float sz[6][2] = {{0, 0}, {r0, 0}, {r0 * 1.1f, 0.008f}, {rs, 0.014f},
                                {rs, 0.017f}, {0, 0.017f}};
        sm_xf at = sm_at(0, 0, 0);
        sm_revolve(m, &at, sz, 6, SEGS);
    }
    if (style == CUP_TRAVEL) {
        float lh = sp_range(r, 0.012f, 0.025f);
        const float lz[5][2] = {{0, h}, {r1 + 0.002f, h}, {r1 + 0.002f, h + lh * 0.6f},
                                {r1 * 0.8f, h + lh}, {0, h + lh}};
        sm_xf at = sm_at(0, 0, 0);
        sm_revolve(m, &at, lz, 5, SEGS);
        sm_xf tab = sm_at(0, -r1 * 0.6f, h + lh + 0.003f);
        sm_box(m, &tab, r1 * 0.5f, r1 * 0.3f, 0.006f);
    }
    if (style != CUP_TUMBLER) { /* the handle: a C on the right */
        float za = h * sp_range(r, 0.70f, 0.85f), zb = h * sp_range(r, 0.15f, 0.3f);
        float reach = sp_range(r, 0.025f, 0.04f), path[13][3];
        for (int i = 0; i <= 12; i++) {
            float a = 3.14159265f * (0.5f - i / 12.0f), zc = (za + zb) / 2, hh = (za - zb) / 2;
            float f = (zc + hh * sinf(a) - foot) / (h - foot), wall = r0 + (r1 - r0) * f - 0.002f;
            path[i][0] = wall + reach * cosf(a), path[i][1] = 0, path[i][2] = lift + zc + hh * sinf(a);
        }
        sm_tube(m, (const float(*)[3])path, 13, sp_range(r, 0.005f, 0.008f), 12);
    }
}

/* ---- 09-01 bottles ---------------------------------------------------------- */

enum { BOTTLE_ROUND, BOTTLE_CONE, BOTTLE_WAIST, BOTTLE_SQUARE };

static void build_bottle(sm_mesh *m, ds_prng *r, int style)
{
    float R = sp_range(r, 0.03f, 0.045f), hb = sp_range(r, 0.12f, 0.20f);
    float hs = sp_range(r, 0.03f, 0.06f), rn = sp_range(r, 0.011f, 0.016f);
    float hn = sp_range(r, 0.015f, 0.03f), hc = sp_range(r, 0.012f, 0.025f);
    float waist = style == BOTTLE_WAIST ? sp_range(r, 0.08f, 0.18f) : 0, rz[40][2];
    int n = 0;
    sm_xf id = sm_at(0, 0, 0);
    if (style == BOTTLE_SQUARE) {
        float pts[64][2];
        int k = rounded_rect(pts, 1.8f * R, 1.8f * R, sp_range(r, 0.2f, 0.5f) * R, 5);
        sm_xf body = sm_at(0, 0, hb / 2);
        sm_extrude(m, &body, (const float(*)[2])pts, k, hb);
        rz[n][0] = 0, rz[n][1] = hb, n++;
        rz[n][0] = R * 0.9f, rz[n][1] = hb, n++;
    } else {
        rz[n][0] = 0, rz[n][1] = 0, n++;
        rz[n][0] = R - 0.004f, rz[n][1] = 0, n++;
        rz[n][0] = R - 0.001f, rz[n][1] = 0.002f, n++;
        int label = ds_prng_uniform(r) < 0.5f;
        for (int i = 0; i <= 10; i++) {
            float f = i / 10.0f, rr = R * (1 - waist * sinf(3.14159265f * f));
            /* A label panel: the body steps out between 30% and 70%. */
            if (label && f > 0.25f && f < 0.75f)
                rr += 0.001f;
            rz[n][0] = rr, rz[n][1] = 0.004f + (hb - 0.004f) * f, n++;
        }
    }
    float top = R * (style == BOTTLE_SQUARE ? 0.9f : 1.0f);
    for (int i = 1; i <= 8; i++) { /* shoulder */
        float f = i / 8.0f;
        if (style == BOTTLE_CONE)
            rz[n][0] = top + (rn - top) * f, rz[n][1] = hb + hs * f;
        else /* quarter ellipse */
            rz[n][0] = rn + (top - rn) * cosf(f * 1.5707963f), rz[n][1] = hb + hs * sinf(f * 1.5707963f);
        n++;
    }
    float zn = hb + hs + hn;
    rz[n][0] = rn, rz[n][1] = zn - 0.006f, n++;
    rz[n][0] = rn + 0.002f, rz[n][1] = zn - 0.006f, n++; /* the lip under the cap */
    rz[n][0] = rn + 0.002f, rz[n][1] = zn - 0.004f, n++;
    rz[n][0] = rn, rz[n][1] = zn - 0.004f, n++;
    rz[n][0] = rn, rz[n][1] = zn, n++;
    rz[n][0] = 0, rz[n][1] = zn, n++;
    sm_revolve(m, &id, (const float(*)[2])rz, n, SEGS);
    float rc = rn + sp_range(r, 0.001f, 0.004f);
    sm_xf cap = sm_at(0, 0, zn - 0.003f + hc / 2);
    sm_cylinder(m, &cap, rc, hc, SEGS);
}

/* ---- 10-02 watches ------------------------------------------------------------ */

enum { WATCH_ROUND, WATCH_SPORT, WATCH_SQUARE };

/* A strap of linked segments leaving the case at height z0 (sign s: +1 up,
 * -1 down) and curling back behind the wrist. */
static void watch_strap(sm_mesh *m, ds_prng *r, float s, float z0, float width, float thick)
{
    int n = 6;
    float seg = sp_range(r, 0.009f, 0.013f), y = 0, z = z0, ang = 0;
    float curl = sp_range(r, 10, 16);
    for (int i = 0; i < n; i++) {
        float a = ang * 3.14159265f / 180;
        float cy = y + sinf(a) * seg / 2, cz = z + s * cosf(a) * seg / 2;
        sm_xf xf = sm_rot(sm_at(0, cy, cz), 0, -s * ang);
        sm_box(m, &xf, width, thick, seg * 0.98f);
        y += sinf(a) * seg;
        z += s * cosf(a) * seg;
        ang += curl;
    }
}

static void build_watch(sm_mesh *m, ds_prng *r, int style)
{
    float R = sp_range(r, 0.018f, 0.023f), t = sp_range(r, 0.009f, 0.014f);
    sm_xf face = sm_rot(sm_at(0, 0, 0), 0, 90); /* local z toward the viewer (-y) */
    float lug = R, width = R * sp_range(r, 0.9f, 1.1f);
    if (style == WATCH_SQUARE) {
        float pts[64][2], w = 2 * R * sp_range(r, 0.8f, 0.9f), h = 2 * R * sp_range(r, 1.0f, 1.15f);
        int k = rounded_rect(pts, w, h, sp_range(r, 0.15f, 0.3f) * w, 6);
        sm_xf body = sm_move(face, 0, 0, t / 2);
        sm_extrude(m, &body, (const float(*)[2])pts, k, t);
        sm_xf glass = sm_move(face, 0, 0, t + 0.0005f);
        uint32_t g = sm_box(m, &glass, w * 0.86f, h * 0.86f, 0.001f);
        sm_set_mat(m, g + 5, SM_GLASS);
        lug = h / 2;
        width = w * 0.8f;
    } else {
        float bz = style == WATCH_SPORT ? t * 1.15f : t;
        const float rz[9][2] = {{0, 0}, {R * 0.9f, 0}, {R, t * 0.25f}, {R, t * 0.7f},
                                {R * 0.98f, bz}, {R * 0.84f, bz}, {R * 0.82f, t * 0.85f},
                                {0, t * 0.85f}, {0, t * 0.85f}};
        sm_revolve(m, &face, rz, 8, SEGS);
        int marks = style == WATCH_SPORT ? 60 : 12;
        for (int i = 0; i < marks; i++) {
            int major = i % (marks / 12) == 0;
            if (!major && style != WATCH_SPORT)
                continue;
            float len = major ? R * 0.14f : R * 0.06f, rm = R * 0.72f - len / 2;
            sm_xf mk = sm_move(sm_rot(face, 2, 360.0f * i / marks), rm, 0, t * 0.86f);
            sm_box(m, &mk, len, major ? R * 0.04f : R * 0.015f, 0.0005f);
        }
        for (int k = 0; k < 2; k++) { /* hands */
            float a = sp_range(r, 0, 360), len = k ? R * 0.66f : R * 0.45f;
            sm_xf hand = sm_move(sm_rot(face, 2, a), len / 2 - R * 0.05f, 0, t * 0.88f + k * 0.0006f);
            sm_box(m, &hand, len, k ? R * 0.035f : R * 0.06f, 0.0005f);
        }
        if (style == WATCH_SPORT) { /* pushers beside the crown */
            for (int s = -1; s <= 1; s += 2) {
                sm_xf p = sm_rot(sm_move(sm_rot(face, 2, s * 40.0f), R + 0.002f, 0, t / 2), 1, 90);
                sm_cylinder(m, &p, 0.0015f, 0.004f, 12);
            }
        }
    }
    sm_xf crown = sm_rot(sm_move(face, (style == WATCH_SQUARE ? R * 0.85f : R) + 0.002f, 0, t / 2), 1, 90);
    sm_cylinder(m, &crown, sp_range(r, 0.0022f, 0.0032f), 0.004f, 16);
    for (int s = -1; s <= 1; s += 2) {
        sm_xf l = sm_at(0, -t * 0.5f, s * (lug + 0.002f));
        sm_box(m, &l, width * 1.1f, t * 0.6f, 0.006f);
        watch_strap(m, r, (float)s, s * (lug + 0.005f), width, sp_range(r, 0.003f, 0.005f));
    }
}

/* ---- 12-08 cars ------------------------------------------------------------------ */

enum { CAR_SEDAN, CAR_SUV, CAR_HATCH, CAR_PICKUP, CAR_SPORTS };

static void build_car(sm_mesh *m, ds_prng *r, int style)
{
    float L = sp_range(r, 4.2f, 4.9f), W = sp_range(r, 1.75f, 1.95f);
    float rw = sp_range(r, 0.31f, 0.36f), ground = rw * 0.55f;
    float belt = style == CAR_SUV || style == CAR_PICKUP ? sp_range(r, 1.0f, 1.15f)
                 : style == CAR_SPORTS                   ? sp_range(r, 0.68f, 0.78f)
                                                         : sp_range(r, 0.82f, 0.95f);
    float roof = belt + (style == CAR_SPORTS ? sp_range(r, 0.35f, 0.42f) : sp_range(r, 0.45f, 0.6f));
    float hood = L * (style == CAR_SPORTS ? sp_range(r, 0.28f, 0.34f) : sp_range(r, 0.2f, 0.27f));
    float nose = belt - sp_range(r, 0.1f, 0.22f);
    float tail = style == CAR_HATCH || style == CAR_SUV ? L * sp_range(r, 0.02f, 0.06f)
                                                        : L * sp_range(r, 0.12f, 0.2f);
    /* The lower body, seen from the left: y forward (front at -L/2), z up. */
    const float body[8][2] = {
        {-L / 2, ground + 0.1f}, {-L / 2 + 0.05f, nose},  {-L / 2 + hood, belt},
        {L / 2 - tail, belt},     {L / 2, belt - 0.05f},   {L / 2, ground + 0.15f},
        {L / 2 - 0.1f, ground},   {-L / 2 + 0.1f, ground},
    };
    sm_xf side = side_frame(0, 0, 0);
    sm_extrude(m, &side, body, 8, W);
    /* The cabin, narrower (tumblehome), on the belt line. */
    float ws = hood + sp_range(r, 0.02f, 0.1f), wt = sp_range(r, 0.45f, 0.75f);
    float rear = style == CAR_PICKUP ? L * 0.55f : L - tail - sp_range(r, 0.0f, 0.15f);
    float back = style == CAR_HATCH || style == CAR_SUV ? sp_range(r, 0.05f, 0.25f) : sp_range(r, 0.35f, 0.6f);
    const float cabin[4][2] = {
        {-L / 2 + ws, belt}, {-L / 2 + ws + wt, roof}, {-L / 2 + rear - back, roof}, {-L / 2 + rear, belt}};
    float cw = W * sp_range(r, 0.82f, 0.9f);
    sm_extrude(m, &side, cabin, 4, cw);
    /* Side windows: a thin plate just proud of the cabin, inset from it. */
    float in = 0.06f;
    const float glass[4][2] = {{cabin[0][0] + in * 2.2f, belt + in}, {cabin[1][0] + in, roof - in},
                               {cabin[2][0] - in * 0.5f, roof - in}, {cabin[3][0] - in * 2.2f, belt + in}};
    sm_extrude(m, &side, glass, 4, cw + 0.01f);
    if (style == CAR_PICKUP) { /* the bed walls */
        float y0 = -L / 2 + rear + 0.08f, y1 = L / 2 - 0.02f, hw = 0.32f;
        for (int s = -1; s <= 1; s += 2) {
            sm_xf wall = sm_at(s * (W / 2 - 0.04f), (y0 + y1) / 2, belt + hw / 2 - 0.15f);
            sm_box(m, &wall, 0.08f, y1 - y0, hw);
        }
    }
    float base = L * sp_range(r, 0.58f, 0.64f), track = W / 2 - 0.12f;
    for (int i = 0; i < 4; i++) {
        sm_xf axle = sm_rot(sm_at((i & 1 ? 1 : -1) * track, (i & 2 ? 1 : -1) * base / 2 - L * 0.01f, rw), 1, 90);
        sm_cylinder(m, &axle, rw, 0.22f, SEGS);
        sm_xf hub = sm_move(axle, 0, 0, (i & 1 ? 1 : -1) * 0.115f);
        sm_cylinder(m, &hub, rw * sp_range(r, 0.55f, 0.7f), 0.02f, SEGS);
    }
    for (int s = -1; s <= 1; s += 2) { /* lamps, mirrors, door seams */
        sm_xf lamp = sm_at(s * W * 0.34f, -L / 2 + 0.02f, nose - 0.12f);
        sm_box(m, &lamp, W * sp_range(r, 0.16f, 0.24f), 0.06f, 0.09f);
        sm_xf tl = sm_at(s * W * 0.38f, L / 2 + 0.01f, belt - 0.15f);
        sm_box(m, &tl, W * 0.16f, 0.04f, 0.08f);
        sm_xf mirror = sm_at(s * (cw / 2 + 0.08f), -L / 2 + ws + 0.15f, belt + 0.12f);
        sm_box(m, &mirror, 0.12f, 0.08f, 0.1f);
        for (int d = 0; d < (style == CAR_SPORTS ? 1 : 2); d++) {
            sm_xf seam = sm_at(s * (W / 2 + 0.001f), -L / 2 + ws + 0.1f + d * wt * 1.4f,
                               (ground + belt) / 2 + 0.05f);
            sm_box(m, &seam, 0.004f, 0.004f, belt - ground - 0.2f);
        }
    }
    sm_xf grille = sm_at(0, -L / 2 + 0.02f, nose - 0.18f);
    sm_box(m, &grille, W * sp_range(r, 0.3f, 0.45f), 0.05f, sp_range(r, 0.08f, 0.16f));
}

/* ---- 14-02 screens -------------------------------------------------------------- */

enum { SCREEN_MONITOR, SCREEN_LAPTOP, SCREEN_TABLET, SCREEN_TV };

/* A panel w x h, d deep, standing upright at (0, 0, zc), glass in front. */
static void panel(sm_mesh *m, ds_prng *r, float w, float h, float d, float zc, float chin)
{
    sm_xf body = sm_at(0, 0, zc);
    sm_box(m, &body, w, d, h);
    float bez = sp_range(r, 0.006f, 0.02f);
    sm_xf glass = sm_at(0, -d / 2 - 0.0008f, zc + chin / 2);
    uint32_t g = sm_box(m, &glass, w - 2 * bez, 0.0016f, h - 2 * bez - chin);
    sm_set_mat(m, g + 2, SM_GLASS);
}

static void build_screen(sm_mesh *m, ds_prng *r, int style)
{
    if (style == SCREEN_LAPTOP) {
        float w = sp_range(r, 0.30f, 0.36f), d = sp_range(r, 0.21f, 0.25f), t = sp_range(r, 0.012f, 0.018f);
        sm_xf base = sm_at(0, 0, t / 2);
        sm_box(m, &base, w, d, t);
        int cols = 12, rows = 5;
        float kx = w * 0.86f / cols, ky = d * 0.45f / rows;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) {
                sm_xf key = sm_at(-w * 0.43f + kx * (j + 0.5f), -d * 0.02f + ky * (i + 0.5f), t + 0.001f);
                sm_box(m, &key, kx * 0.82f, ky * 0.8f, 0.002f);
            }
        sm_xf pad = sm_at(0, -d * 0.3f, t + 0.0003f);
        sm_box(m, &pad, w * sp_range(r, 0.3f, 0.4f), d * 0.25f, 0.0006f);
        float open = sp_range(r, 100, 118), lh = d * 0.95f;
        sm_xf hinge = sm_rot(sm_at(0, d / 2 - 0.005f, t), 0, open - 90);
        sm_xf lid = sm_move(hinge, 0, 0.004f, lh / 2);
        sm_box(m, &lid, w, 0.006f, lh);
        sm_xf glass = sm_move(hinge, 0, -0.0001f, lh / 2 + 0.005f);
        uint32_t g = sm_box(m, &glass, w * 0.92f, 0.0016f, lh * 0.86f);
        sm_set_mat(m, g + 2, SM_GLASS);
        return;
    }
    if (style == SCREEN_TABLET) {
        float w = sp_range(r, 0.17f, 0.25f), h = w * sp_range(r, 1.3f, 1.45f), d = 0.008f;
        float pts[64][2];
        int n = rounded_rect(pts, w, h, w * sp_range(r, 0.04f, 0.1f), 5);
        sm_xf body = sm_rot(sm_at(0, 0, h / 2), 0, 90);
        sm_extrude(m, &body, (const float(*)[2])pts, n, d);
        sm_xf glass = sm_at(0, -d / 2 - 0.0008f, h / 2);
        uint32_t g = sm_box(m, &glass, w * 0.88f, 0.0016f, h * 0.84f);
        sm_set_mat(m, g + 2, SM_GLASS);
        sm_xf cam = sm_rot(sm_at(0, -d / 2, h * 0.96f), 0, 90);
        sm_cylinder(m, &cam, 0.003f, 0.002f, 16);
        return;
    }
    float w = style == SCREEN_TV ? sp_range(r, 0.9f, 1.3f) : sp_range(r, 0.5f, 0.7f);
    float h = w * sp_range(r, 0.56f, 0.64f), d = sp_range(r, 0.02f, 0.045f);
    float lift = style == SCREEN_TV ? sp_range(r, 0.05f, 0.1f) : sp_range(r, 0.10f, 0.18f);
    panel(m, r, w, h, d, lift + h / 2, sp_range(r, 0, 0.03f));
    if (style == SCREEN_TV) {
        for (int s = -1; s <= 1; s += 2) {
            sm_xf foot = sm_at(s * w * sp_range(r, 0.35f, 0.42f), 0, lift / 2);
            sm_box(m, &foot, 0.04f, w * 0.2f, lift + 0.01f);
        }
        return;
    }
    float nh = lift + h * 0.4f;
    sm_xf neck = sm_at(0, d / 2 + 0.025f, nh / 2);
    sm_box(m, &neck, sp_range(r, 0.04f, 0.08f), 0.03f, nh);
    float pts[48][2];
    int round = ds_prng_uniform(r) < 0.5f;
    sm_xf foot = sm_at(0, 0.02f, 0.008f);
    if (round) {
        ellipse(pts, 48, sp_range(r, 0.1f, 0.14f), sp_range(r, 0.08f, 0.12f));
        sm_extrude(m, &foot, (const float(*)[2])pts, 48, 0.016f);
    } else {
        sm_box(m, &foot, sp_range(r, 0.2f, 0.3f), sp_range(r, 0.15f, 0.2f), 0.016f);
    }
}

/* ---- 26-05 lamps ----------------------------------------------------------------- */

enum { LAMP_TABLE, LAMP_FLOOR, LAMP_DESK, LAMP_PENDANT };

/* An open lampshade (outside and inside) from radius rb at zb to rt at zt. */
static void shade(sm_mesh *m, const sm_xf *xf, float rb, float zb, float rt, float zt, float bell)
{
    float rz[24][2];
    int n = 0;
    for (int i = 0; i <= 8; i++) {
        float f = i / 8.0f;
        rz[n][0] = rb + (rt - rb) * f - bell * sinf(3.14159265f * f), rz[n][1] = zb + (zt - zb) * f;
        n++;
    }
    for (int i = 8; i >= 0; i--) {
        float f = i / 8.0f;
        rz[n][0] = rb + (rt - rb) * f - bell * sinf(3.14159265f * f) - 0.003f;
        rz[n][1] = zb + (zt - zb) * f;
        n++;
    }
    rz[n][0] = rb, rz[n][1] = zb, n++;
    sm_revolve(m, xf, (const float(*)[2])rz, n, SEGS);
}

static void build_lamp(sm_mesh *m, ds_prng *r, int style)
{
    sm_xf up = sm_at(0, 0, 0);
    if (style == LAMP_PENDANT) {
        float rb = sp_range(r, 0.12f, 0.22f), hs = sp_range(r, 0.12f, 0.25f), rt = sp_range(r, 0.03f, 0.06f);
        shade(m, &up, rb, 0, rt, hs, sp_range(r, -0.03f, 0.04f));
        const float cap[4][2] = {{0, hs}, {rt + 0.005f, hs}, {rt + 0.005f, hs + 0.04f}, {0, hs + 0.04f}};
        sm_revolve(m, &up, cap, 4, SEGS);
        const float cord[2][3] = {{0, 0, hs + 0.04f}, {0, 0, hs + sp_range(r, 0.4f, 0.7f)}};
        sm_tube(m, cord, 2, 0.004f, 12);
        sm_xf bulb = sm_at(0, 0, hs * 0.35f);
        sphere(m, &bulb, rt * 0.9f);
        return;
    }
    float br = sp_range(r, 0.07f, 0.13f), bh = sp_range(r, 0.02f, 0.06f);
    const float base[6][2] = {{0, 0}, {br, 0}, {br, bh * 0.4f}, {br * 0.6f, bh}, {br * 0.2f, bh * 1.2f}, {0, bh * 1.2f}};
    sm_revolve(m, &up, base, 6, SEGS);
    if (style == LAMP_DESK) {
        float a1 = sp_range(r, 0.3f, 0.42f), a2 = sp_range(r, 0.3f, 0.42f);
        float t1 = sp_range(r, 10, 30) * 3.14159265f / 180, t2 = sp_range(r, 30, 60) * 3.14159265f / 180;
        float j1[3] = {0, a1 * sinf(t1), bh + a1 * cosf(t1)};
        float j2[3] = {0, j1[1] - a2 * sinf(t2), j1[2] + a2 * cosf(t2) * 0.4f};
        const float arm[3][3] = {{0, 0, bh}, {j1[0], j1[1], j1[2]}, {j2[0], j2[1], j2[2]}};
        sm_tube(m, arm, 3, 0.008f, 12);
        sm_xf joint = sm_at(j1[0], j1[1], j1[2]);
        sphere(m, &joint, 0.014f);
        sm_xf head = sm_rot(sm_at(j2[0], j2[1], j2[2]), 0, sp_range(r, 20, 50));
        float hr = sp_range(r, 0.05f, 0.08f);
        const float cone[8][2] = {{0, 0.02f},           {0.02f, 0.02f},
                                  {hr * 0.5f, -0.03f},  {hr, -0.09f},
                                  {hr - 0.003f, -0.09f}, {hr * 0.5f - 0.003f, -0.03f},
                                  {0.017f, 0.017f},     {0, 0.017f}};
        sm_revolve(m, &head, cone, 8, SEGS);
        return;
    }
    float stem = style == LAMP_FLOOR ? sp_range(r, 1.2f, 1.6f) : sp_range(r, 0.2f, 0.4f);
    float sr = style == LAMP_FLOOR ? 0.012f : sp_range(r, 0.01f, 0.035f);
    int vase = style == LAMP_TABLE && ds_prng_uniform(r) < 0.5f;
    if (vase) { /* a turned body instead of a rod */
        float rz[13][2];
        rz[0][0] = 0, rz[0][1] = bh;
        for (int i = 0; i <= 10; i++) {
            float f = i / 10.0f;
            rz[i + 1][0] = sr + br * 0.6f * sinf(3.14159265f * (0.15f + 0.75f * f));
            rz[i + 1][1] = bh + stem * f;
        }
        rz[12][0] = 0, rz[12][1] = bh + stem;
        sm_revolve(m, &up, (const float(*)[2])rz, 13, SEGS);
    } else {
        sm_xf rod = sm_at(0, 0, bh + stem / 2);
        sm_cylinder(m, &rod, sr, stem, 24);
    }
    float rb = sp_range(r, 0.14f, 0.24f) * (style == LAMP_FLOOR ? 1.2f : 1);
    float rt = rb * sp_range(r, 0.55f, 0.9f), hs = sp_range(r, 0.16f, 0.28f);
    float z0 = bh + stem - hs * sp_range(r, 0.2f, 0.5f);
    shade(m, &up, rb, z0, rt, z0 + hs, 0);
    sm_xf bulb = sm_at(0, 0, bh + stem + 0.03f);
    sphere(m, &bulb, 0.03f);
}

/* ---- the table -------------------------------------------------------------------- */

static const sample_variant chairs[] = {
    {"Chair", 366, CHAIR_PANEL},      {"Side chair", 366, CHAIR_PANEL},
    {"Dining chair", 366, CHAIR_SLATS}, {"Chair", 366, CHAIR_SLATS},
    {"Armchair", 371, CHAIR_ARMS},    {"Office chair", 366, CHAIR_OFFICE},
    {"Stool", 349, CHAIR_STOOL},
};
static const sample_variant cups[] = {
    {"Mug", 592, CUP_MUG},           {"Coffee mug", 592, CUP_MUG},
    {"Drinking cup", 523, CUP_TUMBLER}, {"Tumbler", 523, CUP_TUMBLER},
    {"Cup and saucer", 523, CUP_SAUCER}, {"Travel mug", 523, CUP_TRAVEL},
};
static const sample_variant bottles[] = {
    {"Bottle", 500, BOTTLE_ROUND},           {"Beverage bottle", 516, BOTTLE_ROUND},
    {"Bottle", 500, BOTTLE_CONE},            {"Container", 529, BOTTLE_WAIST},
    {"Bottle for beverages", 516, BOTTLE_WAIST}, {"Square bottle", 541, BOTTLE_SQUARE},
};
static const sample_variant watches[] = {
    {"Watch", 30, WATCH_ROUND},      {"Wristwatch", 31, WATCH_ROUND},
    {"Chronograph watch", 31, WATCH_SPORT}, {"Smartwatch", 32, WATCH_SQUARE},
    {"Watch case", 39, WATCH_SQUARE},
};
static const sample_variant cars[] = {
    {"Automobile", 86, CAR_SEDAN},  {"Vehicle", 92, CAR_SEDAN},
    {"Sport utility vehicle", 91, CAR_SUV}, {"Car", 92, CAR_HATCH},
    {"Pickup truck", 99, CAR_PICKUP}, {"Sports car", 86, CAR_SPORTS},
};
static const sample_variant screens[] = {
    {"Computer monitor", 371, SCREEN_MONITOR}, {"Display screen", 374, SCREEN_MONITOR},
    {"Laptop computer", 315, SCREEN_LAPTOP},   {"Notebook computer", 315, SCREEN_LAPTOP},
    {"Tablet computer", 341, SCREEN_TABLET},   {"Television", 125, SCREEN_TV},
};
static const sample_variant lamps[] = {
    {"Lamp", 60, LAMP_TABLE},       {"Table lamp", 67, LAMP_TABLE},
    {"Floor lamp", 68, LAMP_FLOOR}, {"Desk lamp", 64, LAMP_DESK},
    {"Pendant lamp", 77, LAMP_PENDANT}, {"Light fixture", 77, LAMP_PENDANT},
};

#define VARIANTS(a) a, (int)(sizeof a / sizeof a[0])

const sample_family sample_families[] = {
    {"0601", 6, {"Seating", "Furniture", "Home"}, VARIANTS(chairs)},
    {"0701", 7, {"Housewares", "Tableware", "Drinkware"}, VARIANTS(cups)},
    {"0901", 9, {"Packaging", "Beverage", "Containers"}, VARIANTS(bottles)},
    {"1002", 10, {"Timepieces", "Watch", "Wearables"}, VARIANTS(watches)},
    {"1208", 12, {"Motors", "Automotive", "Mobility"}, VARIANTS(cars)},
    {"1402", 14, {"Electronics", "Display", "Computing"}, VARIANTS(screens)},
    {"2605", 26, {"Lighting", "Luminaires", "Light"}, VARIANTS(lamps)},
};
const int sample_nfamilies = (int)(sizeof sample_families / sizeof sample_families[0]);

int obj_build(sm_mesh *m, int f, int v, ds_prng *r, ds_err *err)
{
    static void (*const builders[])(sm_mesh *, ds_prng *, int) = {
        build_chair, build_cup, build_bottle, build_watch, build_car, build_screen, build_lamp,
    };
    sm_mesh_reset(m);
    if (f < 0 || f >= sample_nfamilies || v < 0 || v >= sample_families[f].nvariants)
        return ds_fail(err, DS_EINVAL, "sample: no article %d/%d", f, v);
    builders[f](m, r, sample_families[f].variants[v].style);
    if (m->oom)
        return ds_fail(err, DS_ENOMEM, "sample: out of memory (or faces) building a %s",
                       sample_families[f].variants[v].title);
    return 0;
}
