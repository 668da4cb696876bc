package web

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
)

// The PNG icons the manifest and iOS need are drawn here at start-up rather
// than committed as binaries: a rounded square with a ring (the circle of
// family) around a heart, the same as static/icons/icon.svg.

var (
	iconBlue = color.NRGBA{0x17, 0x45, 0x7f, 0xff}
	iconRed  = color.NRGBA{0xb4, 0x1c, 0x1c, 0xff}
)

// addIcons draws the PNG icons and adds them to the static files.
func (a *assets) addIcons() error {
	for _, ic := range []struct {
		name     string
		size     int
		bg       color.NRGBA
		maskable bool
	}{
		{"icons/icon-192.png", 192, iconBlue, false},
		{"icons/icon-512.png", 512, iconBlue, false},
		{"icons/maskable-512.png", 512, iconBlue, true},
		{"icons/sos-192.png", 192, iconRed, false},
	} {
		var buf bytes.Buffer
		if err := png.Encode(&buf, drawIcon(ic.size, ic.bg, ic.maskable)); err != nil {
			return err
		}
		as := newAsset(ic.name, buf.Bytes())
		a.byName[ic.name], a.byURL[as.url] = as, as
	}
	return nil
}

// drawIcon renders the icon at size×size with 4×4 supersampling. A
// maskable icon fills the square (the platform applies its own mask) and
// keeps the drawing inside the safe zone.
func drawIcon(size int, bg color.NRGBA, maskable bool) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	const ss = 4
	scale := 1.0
	if maskable {
		scale = 0.8
	}
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var cover, white float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					// u, v in [-1, 1], y up.
					u := (float64(px)+(float64(sx)+0.5)/ss)/float64(size)*2 - 1
					v := 1 - (float64(py)+(float64(sy)+0.5)/ss)/float64(size)*2
					if !maskable && !inRoundedSquare(u, v, 0.36) {
						continue
					}
					cover++
					if inMark(u/scale, v/scale) {
						white++
					}
				}
			}
			if cover == 0 {
				continue
			}
			n := float64(ss * ss)
			wf := white / cover
			c := color.NRGBA{
				R: uint8(float64(bg.R)*(1-wf) + 255*wf),
				G: uint8(float64(bg.G)*(1-wf) + 255*wf),
				B: uint8(float64(bg.B)*(1-wf) + 255*wf),
				A: uint8(255 * cover / n),
			}
			img.SetNRGBA(px, py, c)
		}
	}
	return img
}

// inRoundedSquare reports whether (u, v) is inside the square [-1,1]² with
// corners of radius r.
func inRoundedSquare(u, v, r float64) bool {
	dx, dy := math.Abs(u)-(1-r), math.Abs(v)-(1-r)
	if dx <= 0 || dy <= 0 {
		return math.Abs(u) <= 1 && math.Abs(v) <= 1
	}
	return dx*dx+dy*dy <= r*r
}

// inMark reports whether (u, v) is on the white mark: a ring and a heart.
func inMark(u, v float64) bool {
	d := math.Hypot(u, v)
	if d >= 0.58 && d <= 0.7 {
		return true
	}
	// Heart: (x²+y²−1)³ − x²y³ ≤ 0, scaled into the ring.
	x, y := u/0.33, (v+0.04)/0.33
	q := x*x + y*y - 1
	return q*q*q-x*x*y*y*y <= 0
}
