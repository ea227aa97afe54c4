/* Test drawings with known geometry, for tests/browser/test_page_scripts.py: appended to the
   page's body, each with an id.
   - #ink: 100 x 50, white, a 10 x 10 red square at (0, 0) and a 10 x 10 blue one at (20, 0)
   - #blank: 100 x 50, all white
   - #bars: 200 x 100, white, bars in rgb(0, 150, 255): columns 10-29 (40 px high), columns
     50-59 (70 px high), and one stray column at 100 (90 px high)
   - #copy: an <img> of #ink (a PNG data URL); #empty: an <img> without a source */
() => {
    const canvas = (id, width, height) => {
        const c = document.createElement('canvas');
        c.id = id;
        c.width = width;
        c.height = height;
        const ctx = c.getContext('2d');
        ctx.fillStyle = '#ffffff';
        ctx.fillRect(0, 0, width, height);
        document.body.appendChild(c);
        return ctx;
    };
    const ink = canvas('ink', 100, 50);
    ink.fillStyle = '#ff0000';
    ink.fillRect(0, 0, 10, 10);
    ink.fillStyle = '#0000ff';
    ink.fillRect(20, 0, 10, 10);
    canvas('blank', 100, 50);
    const bars = canvas('bars', 200, 100);
    bars.fillStyle = 'rgb(0, 150, 255)';
    bars.fillRect(10, 100 - 40, 20, 40);
    bars.fillRect(50, 100 - 70, 10, 70);
    bars.fillRect(100, 100 - 90, 1, 90);
    const copy = document.createElement('img');
    copy.id = 'copy';
    copy.src = document.getElementById('ink').toDataURL('image/png');
    document.body.appendChild(copy);
    const empty = document.createElement('img');
    empty.id = 'empty';
    document.body.appendChild(empty);
}
