//! Clipping of polylines and polygons to the visible data rectangle, so that
//! explicit axis ranges never let lines spill over labels or other panels.

/// Axis-aligned rectangle in drawing space.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rect {
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
}

impl Rect {
    pub fn contains(&self, (x, y): (f64, f64)) -> bool {
        x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1
    }
}

/// Liang-Barsky clipping of the segment `a`-`b`.
fn clip_segment(a: (f64, f64), b: (f64, f64), r: &Rect) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let mut t0 = 0.0f64;
    let mut t1 = 1.0f64;
    for (p, q) in [
        (-dx, a.0 - r.x0),
        (dx, r.x1 - a.0),
        (-dy, a.1 - r.y0),
        (dy, r.y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                if t > t1 {
                    return None;
                }
                t0 = t0.max(t);
            } else {
                if t < t0 {
                    return None;
                }
                t1 = t1.min(t);
            }
        }
    }
    let at = |t: f64| {
        if t == 0.0 {
            a
        } else if t == 1.0 {
            b
        } else {
            (a.0 + t * dx, a.1 + t * dy)
        }
    };
    Some((at(t0), at(t1)))
}

/// The visible runs of a polyline.
pub(crate) fn clip_polyline(points: &[(f64, f64)], r: &Rect) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    if points.len() == 1 {
        if r.contains(points[0]) {
            runs.push(vec![points[0]]);
        }
        return runs;
    }
    let mut current: Vec<(f64, f64)> = Vec::new();
    for w in points.windows(2) {
        match clip_segment(w[0], w[1], r) {
            Some((p, q)) => {
                if current.last() != Some(&p) {
                    if current.len() > 1 {
                        runs.push(std::mem::take(&mut current));
                    }
                    current.clear();
                    current.push(p);
                }
                current.push(q);
            }
            None => {
                if current.len() > 1 {
                    runs.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() > 1 {
        runs.push(current);
    }
    runs
}

/// Sutherland-Hodgman clipping of a (possibly concave) polygon.
pub(crate) fn clip_polygon(poly: &[(f64, f64)], r: &Rect) -> Vec<(f64, f64)> {
    type Edge = (
        fn(&Rect, (f64, f64)) -> bool,
        fn(&Rect, (f64, f64), (f64, f64)) -> (f64, f64),
    );
    fn lerp_x(a: (f64, f64), b: (f64, f64), x: f64) -> (f64, f64) {
        let t = (x - a.0) / (b.0 - a.0);
        (x, a.1 + t * (b.1 - a.1))
    }
    fn lerp_y(a: (f64, f64), b: (f64, f64), y: f64) -> (f64, f64) {
        let t = (y - a.1) / (b.1 - a.1);
        (a.0 + t * (b.0 - a.0), y)
    }
    let edges: [Edge; 4] = [
        (|r, p| p.0 >= r.x0, |r, a, b| lerp_x(a, b, r.x0)),
        (|r, p| p.0 <= r.x1, |r, a, b| lerp_x(a, b, r.x1)),
        (|r, p| p.1 >= r.y0, |r, a, b| lerp_y(a, b, r.y0)),
        (|r, p| p.1 <= r.y1, |r, a, b| lerp_y(a, b, r.y1)),
    ];
    let mut out: Vec<(f64, f64)> = poly.to_vec();
    for (inside, cut) in edges {
        if out.is_empty() {
            break;
        }
        let input = std::mem::take(&mut out);
        let mut prev = *input.last().expect("non-empty");
        for &cur in &input {
            match (inside(r, cur), inside(r, prev)) {
                (true, true) => out.push(cur),
                (true, false) => {
                    out.push(cut(r, prev, cur));
                    out.push(cur);
                }
                (false, true) => out.push(cut(r, prev, cur)),
                (false, false) => {}
            }
            prev = cur;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: Rect = Rect {
        x0: 0.0,
        x1: 10.0,
        y0: 0.0,
        y1: 1.0,
    };

    #[test]
    fn polyline_leaving_and_reentering_gives_two_runs() {
        let pts = [(0.0, 0.5), (2.0, 0.5), (3.0, 5.0), (4.0, 0.5), (6.0, 0.5)];
        let runs = clip_polyline(&pts, &R);
        assert_eq!(runs.len(), 2, "{runs:?}");
        for run in &runs {
            for p in run {
                assert!(R.contains(*p), "{p:?}");
            }
        }
        assert_eq!(runs[0][0], (0.0, 0.5));
        assert_eq!(*runs[1].last().unwrap(), (6.0, 0.5));
    }

    #[test]
    fn polygon_is_cut_to_the_rectangle() {
        let poly = [(-5.0, -1.0), (15.0, -1.0), (15.0, 2.0), (-5.0, 2.0)];
        let out = clip_polygon(&poly, &R);
        assert!(!out.is_empty());
        for p in &out {
            assert!(R.contains(*p), "{p:?}");
        }
    }
}
