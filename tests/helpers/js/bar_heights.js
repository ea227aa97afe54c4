/* Heights in pixels of the solid-colour bars of a bar chart drawn on a canvas: for each run of
   adjacent columns containing the colour (within tol per channel, nearly opaque), the largest
   count of that colour in one column of the run. Runs narrower than 3 columns are stray
   antialiased columns and are left out.
   Argument: [canvas element, [r, g, b], tol]. Returns [{start, end, height}, ...]. */
([canvas, rgb, tol]) => {
    const {width, height} = canvas;
    const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
    const counts = [];
    for (let x = 0; x < width; x++) {
        let n = 0;
        for (let y = 0; y < height; y++) {
            const i = 4 * (y * width + x);
            if (Math.abs(data[i] - rgb[0]) <= tol && Math.abs(data[i + 1] - rgb[1]) <= tol
                && Math.abs(data[i + 2] - rgb[2]) <= tol && data[i + 3] > 200) n++;
        }
        counts.push(n);
    }
    const bars = [];
    let run = null;
    counts.forEach((n, x) => {
        if (n > 0) { if (!run) run = {start: x, height: 0}; run.height = Math.max(run.height, n); }
        else if (run) { run.end = x; bars.push(run); run = null; }
    });
    if (run) { run.end = width; bars.push(run); }
    return bars.filter(b => b.end - b.start >= 3);
}
