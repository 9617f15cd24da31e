package web

// bar is one value of a bar chart.
type bar struct {
	Label string
	Value int64
	Text  string
}

// barGeom is a bar placed in the chart's SVG coordinates.
type barGeom struct {
	bar
	Y, W, TextX int
}

// chart is a horizontal bar chart, rendered as SVG on the server (no script needed):
// one row per bar, its label on the left, its value written after the bar.
type chart struct {
	Title  string
	Bars   []barGeom
	Height int
}

const (
	chartWidth  = 640
	chartLabelW = 200
	chartBarMax = 320
	chartRow    = 28
)

// barChart lays out bars; negative values are drawn as empty bars with their text.
func barChart(title string, bars []bar) chart {
	c := chart{Title: title, Height: chartRow*len(bars) + 8}
	var max int64
	for _, b := range bars {
		max = maxI(max, b.Value)
	}
	for i, b := range bars {
		w := 0
		if max > 0 && b.Value > 0 {
			w = int(b.Value * chartBarMax / max)
			if w < 2 {
				w = 2
			}
		}
		c.Bars = append(c.Bars, barGeom{bar: b, Y: 4 + i*chartRow, W: w, TextX: chartLabelW + w + 8})
	}
	return c
}

func maxI(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
