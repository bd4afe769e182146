// vidseek serve page: the query lives in the URL (?q=...&top=...&videos=1) so a search can be
// shared; results are the server's cards (/api/cards, the same renderer as `search --html`).
(function(){
  var form=document.getElementById('search'), q=document.getElementById('q'),
      top=document.getElementById('top'), videos=document.getElementById('videos'),
      results=document.getElementById('results'), status=document.getElementById('status');

  function params(){
    var p=new URLSearchParams(); p.set('q',q.value.trim()); p.set('top',top.value||'10');
    if(videos.checked) p.set('videos','1'); return p;
  }
  function showStatus(){
    fetch('/api/status').then(function(r){return r.json();}).then(function(s){
      if(s.state==='loading'){ status.textContent='loading the collection…'; setTimeout(showStatus,1000); return; }
      if(s.state==='failed'){ status.textContent='cannot search: '+s.error; status.className='error'; return; }
      status.textContent=s.videos+' videos, spaces: '+s.spaces.join(', ')+' (loaded in '+s.load_seconds+' s)';
    }).catch(function(){ status.textContent='server not reachable'; });
  }
  function run(push){
    var p=params();
    if(!p.get('q')){ results.innerHTML=''; return; }
    if(push) history.pushState(null,'','/?'+p.toString());
    document.title='vidseek: '+p.get('q');
    results.setAttribute('aria-busy','true');
    fetch('/api/cards?'+p.toString()).then(function(r){
      if(r.status===503){ setTimeout(function(){run(false);},1000); return null; }
      if(!r.ok) return r.json().then(function(e){ throw new Error(e.error||r.statusText); });
      return r.text();
    }).then(function(html){
      if(html===null) return;
      results.innerHTML=html; results.removeAttribute('aria-busy'); vidseekBind(results);
    }).catch(function(err){
      results.innerHTML='<p class="error"></p>'; results.firstChild.textContent=err.message;
      results.removeAttribute('aria-busy');
    });
  }
  function fromUrl(){
    var p=new URLSearchParams(location.search);
    q.value=p.get('q')||''; top.value=p.get('top')||'10'; videos.checked=p.get('videos')==='1';
    run(false);
  }
  form.addEventListener('submit',function(ev){ ev.preventDefault(); run(true); });
  window.addEventListener('popstate',fromUrl);
  showStatus(); fromUrl();
})();
